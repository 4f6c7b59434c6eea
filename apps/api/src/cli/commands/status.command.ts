import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { describeHolder } from '../../modules/database/migration-lock.service';
import {
  MigrationStatusService,
  StatusReport,
} from '../../scripts/migration/status/migration-status.service';
import { CommandContextFactory } from '../runner/command-context.factory';
import { formatBytes, table } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';

type StatusOptions = BaseCommandOptions & { prometheus?: boolean };

@Command({
  name: 'status',
  description:
    'where things stand: monolith, backups, split state, databases with sizes, pending migrations, connections',
})
export class StatusCommand extends TopsteelCommand<StatusOptions, StatusReport> {
  protected readonly commandName = 'status';

  constructor(
    contexts: CommandContextFactory,
    private readonly status: MigrationStatusService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--prometheus',
    description:
      "print the database gauges in the Prometheus text format (node_exporter's textfile collector): npm run -s db:status -- --prometheus",
  })
  parsePrometheus(): boolean {
    return true;
  }

  protected async execute(
    _parameters: string[],
    options: StatusOptions,
  ): Promise<CommandResult<StatusReport>> {
    if (options.prometheus && options.json)
      throw new UsageException(
        UsageExceptionCode.InvalidOption,
        '--prometheus and --json print different documents: pick one',
      );
    const report = await this.status.collect();
    const text = options.prometheus ? (await prometheusText(report)).trimEnd() : render(report);
    return { exitCode: ExitCode.Success, report, text };
  }
}

/** prom-client (and the OpenTelemetry API it brings) is loaded only when --prometheus asks for it. */
async function prometheusText(report: StatusReport): Promise<string> {
  const { renderPrometheus } = require('./status-prometheus') as typeof import('./status-prometheus');
  return renderPrometheus(report);
}

function render(report: StatusReport): string {
  const lines: string[] = [
    `PostgreSQL ${report.server.version} on ${report.server.host}:${report.server.port}`,
    '',
    ...renderMonolith(report.monolith),
    '',
    `Split: ${report.split.status}${report.split.completedAt ? ` (completed ${report.split.completedAt})` : ''}${report.split.status === 'unknown' ? ' (AUTH, which holds the journal, is closed to connections)' : ''}`,
    ...renderReverseSync(report),
    '',
    'Databases:',
    renderDatabases(report.databases),
    '',
    'Tenant servers (TENANT_SERVERS):',
    renderServers(report.servers),
    '',
    `Backups (${report.backups.length}):`,
    ...report.backups
      .slice(0, 5)
      .map((backup) => `  ${backup.name}  ${backup.databases.join(', ')}  ${formatBytes(backup.bytes)}`),
    '',
    'Connections per database:',
    ...report.connections.map((connection) => `  ${connection.database}: ${connection.count}`),
    '',
    `Migration lock: ${report.lock ? `held by ${describeHolder(report.lock)}` : 'free'}`,
  ];
  if (report.rollbackInProgress)
    lines.push(
      `A rollback stopped halfway: finish it with npm run db:rollback (${report.rollbackInProgress})`,
    );
  return lines.join('\n');
}

function renderMonolith(monolith: StatusReport['monolith']): string[] {
  if (monolith.closed)
    return [
      `Monolith ${monolith.database}: closed to connections by an interrupted rollback (run npm run db:rollback to finish it)`,
    ];
  if (!monolith.exists) return [`Monolith ${monolith.database}: does not exist`];
  return [
    `Monolith ${monolith.database}: ${monolith.tableCount} tables, ${monolith.totalRows} rows, ${formatBytes(monolith.sizeBytes ?? 0)}`,
    table(
      ['table', 'rows', 'size', 'pk'],
      monolith.tables.map((t) => [t.name, t.rows, formatBytes(t.sizeBytes), t.hasPrimaryKey ? 'yes' : 'no']),
    ),
  ];
}

function pendingText(database: StatusReport['databases'][number]): string {
  if (database.closed) return `closed to connections${database.closedBy ? ` by ${database.closedBy}` : ''}`;
  if (database.error) return `error: ${database.error}`;
  if (database.pendingMigrations === null) return '';
  return database.pendingMigrations.length === 0 ? 'none' : database.pendingMigrations.join(', ');
}

function renderDatabases(databases: StatusReport['databases']): string {
  return table(
    ['database', 'kind', 'société', 'exists', 'ours', 'size', 'conns', 'pending migrations'],
    databases.map((database) => [
      database.name,
      database.kind,
      database.societe ?? '',
      database.exists ? 'yes' : 'no',
      database.ownedByTool ? 'yes' : 'no',
      database.sizeBytes === null ? '' : formatBytes(database.sizeBytes),
      database.connections,
      pendingText(database),
    ]),
  );
}

function renderServers(servers: StatusReport['servers']): string {
  return table(
    ['server', 'address', 'reachable', 'version', 'tenants', 'size', 'conns', 'sociétés'],
    servers.map((server) => [
      server.name,
      `${server.host}:${server.port}`,
      server.reachable ? 'yes' : `no${server.error ? `: ${server.error}` : ''}`,
      server.version ?? '',
      server.tenantCount,
      formatBytes(server.tenantSizeBytes),
      server.connections === null ? '' : `${server.tenantConnections}/${server.connections}`,
      server.societes.map((societe) => societe.code).join(', '),
    ]),
  );
}

/** The reverse sync after an online cutover: one line per new database flowing back into the monolith. */
function renderReverseSync(report: StatusReport): string[] {
  const links = report.online?.reverseSync;
  if (!links) return [];
  return [
    'Reverse sync (new databases -> monolith):',
    ...links.map(
      (link) =>
        `  ${link.database}: ${link.state}, lag ${link.lagBytes === null ? 'unknown' : formatBytes(link.lagBytes)}${link.lastMessageAgeMs === null ? '' : `, last message ${Math.round(link.lastMessageAgeMs / 1000)} s ago`}${link.applyErrors ? `, ${link.applyErrors} apply error(s)` : ''}${link.conflict ? `\n    conflict: ${link.conflict.description}` : ''}`,
    ),
  ];
}
