import { Command } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { describeHolder } from '../../modules/database/migration-lock.service';
import {
  MigrationStatusService,
  StatusReport,
} from '../../scripts/migration/status/migration-status.service';
import { CommandContextFactory } from '../runner/command-context.factory';
import { formatBytes, table } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

@Command({
  name: 'status',
  description:
    'where things stand: monolith, backups, split state, databases with sizes, pending migrations, connections',
})
export class StatusCommand extends TopsteelCommand<BaseCommandOptions, StatusReport> {
  protected readonly commandName = 'status';

  constructor(
    contexts: CommandContextFactory,
    private readonly status: MigrationStatusService,
  ) {
    super(contexts);
  }

  protected async execute(): Promise<CommandResult<StatusReport>> {
    const report = await this.status.collect();
    return { exitCode: ExitCode.Success, report, text: render(report) };
  }
}

function render(report: StatusReport): string {
  const lines: string[] = [];
  const monolith = report.monolith;
  lines.push(`PostgreSQL ${report.server.version} on ${report.server.host}:${report.server.port}`, '');
  if (monolith.closed) {
    lines.push(
      `Monolith ${monolith.database}: closed to connections by an interrupted rollback (run npm run db:rollback to finish it)`,
    );
  } else if (monolith.exists) {
    lines.push(
      `Monolith ${monolith.database}: ${monolith.tableCount} tables, ${monolith.totalRows} rows, ${formatBytes(monolith.sizeBytes ?? 0)}`,
    );
    lines.push(
      table(
        ['table', 'rows', 'size', 'pk'],
        monolith.tables.map((t) => [
          t.name,
          t.rows,
          formatBytes(t.sizeBytes),
          t.hasPrimaryKey ? 'yes' : 'no',
        ]),
      ),
    );
  } else {
    lines.push(`Monolith ${monolith.database}: does not exist`);
  }
  lines.push(
    '',
    `Split: ${report.split.status}${report.split.completedAt ? ` (completed ${report.split.completedAt})` : ''}${report.split.status === 'unknown' ? ' (AUTH, which holds the journal, is closed to connections)' : ''}`,
  );
  lines.push(...renderReverseSync(report));
  lines.push('', 'Databases:');
  lines.push(
    table(
      ['database', 'kind', 'société', 'exists', 'ours', 'size', 'conns', 'pending migrations'],
      report.databases.map((database) => [
        database.name,
        database.kind,
        database.societe ?? '',
        database.exists ? 'yes' : 'no',
        database.ownedByTool ? 'yes' : 'no',
        database.sizeBytes === null ? '' : formatBytes(database.sizeBytes),
        database.connections,
        database.closed
          ? `closed to connections${database.closedBy ? ` by ${database.closedBy}` : ''}`
          : database.error
            ? `error: ${database.error}`
            : database.pendingMigrations === null
              ? ''
              : database.pendingMigrations.length === 0
                ? 'none'
                : database.pendingMigrations.join(', '),
      ]),
    ),
  );
  lines.push('', `Backups (${report.backups.length}):`);
  for (const backup of report.backups.slice(0, 5))
    lines.push(`  ${backup.name}  ${backup.databases.join(', ')}  ${formatBytes(backup.bytes)}`);
  lines.push('', 'Connections per database:');
  for (const connection of report.connections) lines.push(`  ${connection.database}: ${connection.count}`);
  lines.push('', `Migration lock: ${report.lock ? `held by ${describeHolder(report.lock)}` : 'free'}`);
  if (report.rollbackInProgress)
    lines.push(
      `A rollback stopped halfway: finish it with npm run db:rollback (${report.rollbackInProgress})`,
    );
  return lines.join('\n');
}

/** The reverse sync after an online cutover: one line per new database flowing back into the monolith. */
function renderReverseSync(report: StatusReport): string[] {
  const links = report.online?.reverseSync;
  if (!links) return [];
  return [
    'Reverse sync (new databases -> monolith):',
    ...links.map(
      (link) =>
        `  ${link.database}: ${link.state}, lag ${link.lagBytes === null ? 'unknown' : formatBytes(link.lagBytes)}${link.lastMessageAgeMs === null ? '' : `, last message ${Math.round(link.lastMessageAgeMs / 1000)} s ago`}`,
    ),
  ];
}
