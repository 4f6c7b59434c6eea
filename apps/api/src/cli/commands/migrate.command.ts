import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { formatDuration } from '../../common/format/format';
import { MigrateReport, MigrationService, SplitReport } from '../../scripts/migration/migration-service';
import { SchemaFanOutReport } from '../../scripts/migration/fan-out/schema-fan-out';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS, table } from '../runner/command-output.service';
import { collect, parsePositiveInteger } from '../runner/option-parsers';
import { lockTimeoutOf, SharedOptions, SharedOptionValues } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { renderDryRun } from './dry-run.command';
import { OnlineSplitService } from '../../scripts/migration/online/online-split.service';
import { ConnectionBudgetService } from '../../scripts/migration/copy/connection-budget.service';
import { OnlineFlags, onlineOptionsFrom, OnlineMigrateReport, renderOnline } from './online-split.options';

type MigrateOptions = BaseCommandOptions &
  Pick<SharedOptionValues, 'jobs' | 'excludeTable' | 'lockTimeout'> & {
    tenant?: string[];
    dryRun?: boolean;
    discardTargetChanges?: boolean;
  } & OnlineFlags;

@SharedOptions(['jobs', 'excludeTable', 'lockTimeout'], {
  jobs: 'tables (first run) or databases (later runs) processed in parallel; default from the CPUs, always capped by the free connections',
})
@Command({
  name: 'migrate',
  description:
    'the split on first run (resumable, verified); afterwards the pending schema migrations of AUTH, SHARED and every tenant',
})
export class MigrateCommand extends TopsteelCommand<MigrateOptions, MigrateReport | OnlineMigrateReport> {
  protected readonly commandName = 'migrate';

  constructor(
    contexts: CommandContextFactory,
    private readonly migrations: MigrationService,
    private readonly online: OnlineSplitService,
    private readonly budget: ConnectionBudgetService,
  ) {
    super(contexts);
  }

  @Option({ flags: '--tenant <code>', description: 'after the split: only this société (repeatable)' })
  parseTenant(value: string, previous?: string[]): string[] {
    return collect(value, previous);
  }

  @Option({
    flags: '--dry-run',
    description: 'show what would be done (pre-flight, or pending migrations) and change nothing',
  })
  parseDryRun(): boolean {
    return true;
  }

  @Option({
    flags: '--discard-target-changes',
    description:
      'resuming a split: recopy target tables written into since the tool loaded them, after dumping them into BACKUP_DIR',
  })
  parseDiscardTargetChanges(): boolean {
    return true;
  }

  @Option({ flags: '--online', description: 'split while the ERP keeps writing (needs wal_level=logical)' })
  parseOnline(): boolean {
    return true;
  }

  @Option({
    flags: '--cutover <mode>',
    description: 'with --online: auto (default, when the lag is low) or manual (npm run db:cutover)',
  })
  parseCutover(value: string): string {
    return value;
  }

  @Option({
    flags: '--max-lag-ms <n>',
    description: 'with --online: cut over automatically below this lag (default 1000)',
  })
  parseMaxLag(value: string): number {
    return parsePositiveInteger(value, '--max-lag-ms', 3600000);
  }

  @Option({
    flags: '--max-pause-ms <n>',
    description: 'with --online: abort a cutover whose write pause would pass this (default 5000)',
  })
  parseMaxPause(value: string): number {
    return parsePositiveInteger(value, '--max-pause-ms', 3600000);
  }

  @Option({
    flags: '--no-reverse-sync',
    description:
      'with --online: do not subscribe the monolith to the new databases after the cutover (a rollback then loses the writes made since)',
  })
  parseReverseSync(): boolean {
    return false;
  }

  protected async execute(
    _parameters: string[],
    options: MigrateOptions,
    run: CliRunContext,
  ): Promise<CommandResult<MigrateReport | OnlineMigrateReport>> {
    if (options.online && !options.dryRun) {
      const report: OnlineMigrateReport = {
        mode: 'online',
        ...(await this.onlineSplit(options, run)),
      };
      return { exitCode: ExitCode.Success, report, text: renderOnline(report) };
    }
    const report = await this.migrations.migrate(
      {
        jobs: options.jobs,
        excludeTables: options.excludeTable,
        lockTimeoutMs: lockTimeoutOf(options),
        tenants: options.tenant,
        dryRun: options.dryRun,
        discardTargetChanges: options.discardTargetChanges,
      },
      run,
    );
    switch (report.mode) {
      case 'split':
        return { exitCode: ExitCode.Success, report, text: renderSplit(report.split) };
      case 'preflight':
        return {
          exitCode: report.preflight.ok ? ExitCode.Success : ExitCode.Failure,
          report,
          text: renderDryRun(report.preflight),
        };
      case 'schema-migrations':
        return {
          exitCode: report.migrations.failed > 0 ? ExitCode.Failure : ExitCode.Success,
          report,
          text: renderFanOut(report.migrations),
        };
    }
  }
  /** The online split with --jobs fitted to the connections free, like the offline one. */
  private async onlineSplit(options: MigrateOptions, run: CliRunContext) {
    const decision = await this.budget.jobs(options.jobs);
    if (decision.note) run.info(`⚠ ${decision.note}.`);
    return this.online.migrate(onlineOptionsFrom({ ...options, jobs: decision.jobs }, decision.jobs), run);
  }
}

function renderSplit(split: SplitReport): string {
  const rows = split.tables.reduce((sum, entry) => sum + entry.rows, 0);
  const timings = split.timings;
  return [
    `${CHECK} Split complete${split.resumed ? ' (resumed)' : ''}: ${split.tables.length} tables, ${rows} rows copied and verified.`,
    `Backup: ${split.backup.path}${split.backup.reused ? ' (reused: it matches the monolith)' : ''}`,
    `Databases: ${split.databases.map((database) => `${database.name} (${database.kind}${database.created ? ', created' : ''})`).join(', ')}`,
    ...(split.discardedTargetChanges
      ? [
          `Changed target tables dumped into ${split.discardedTargetChanges.folder} before recopying: ${split.discardedTargetChanges.tables.join(', ')}`,
        ]
      : []),
    `Default société id ${split.societeId}; ${split.usersLinked} user link(s) added; ${split.constraintsRestored} foreign key(s) restored.`,
    '',
    table(
      ['source', 'target', 'rows', 'copied', 'verified'],
      split.tables.map((entry) => {
        const verified = split.verification.tables.find((table) => table.source === entry.source);
        return [
          entry.source,
          `${entry.database}.${entry.target}`,
          entry.rows,
          entry.copied ? formatDuration(entry.durationMs ?? 0) : 'earlier run',
          verified?.ok ? CHECK : CROSS,
        ];
      }),
    ),
    '',
    'Cross-database references:',
    ...split.verification.references.map(
      (reference) =>
        `  ${reference.ok ? CHECK : CROSS} ${reference.reference}: ${reference.targetDangling} dangling (monolith: ${reference.sourceDangling})`,
    ),
    '',
    `Timings: pre-flight ${formatDuration(timings.preflightMs)}, databases ${formatDuration(timings.prepareMs)}, ` +
      `backup ${formatDuration(timings.backupMs)}, copy ${formatDuration(timings.copyMs)} ` +
      `(of which index builds ${formatDuration(timings.indexMs)} summed over tables), ` +
      `foreign keys ${formatDuration(timings.constraintsMs)}, analyze ${formatDuration(timings.analyzeMs)}, ` +
      `verification ${formatDuration(timings.verifyMs)}, journal ${formatDuration(timings.journalMs)}, ` +
      `total ${formatDuration(timings.totalMs)}`,
    ...(split.excluded.length > 0
      ? [
          '',
          `Left in the monolith: ${split.excluded.map((entry) => `${entry.source} (${entry.reason})`).join('; ')}`,
        ]
      : []),
    '',
    'Next: npm run db:verify, then restart the application with DB_MODE=multi-tenant.',
  ].join('\n');
}

function renderFanOut(report: SchemaFanOutReport): string {
  if (report.nothingToDo) return `${CHECK} Nothing to do: ${report.upToDate} database(s) up to date.`;
  const lines = report.databases
    .filter((database) => database.status !== 'up-to-date')
    .map(
      (database) =>
        `  ${database.status === 'failed' ? CROSS : CHECK} ${database.database}: ${database.status} ${database.error ?? database.migrations.join(', ')}`,
    );
  return [
    ...lines,
    '',
    `${report.migrated} migrated, ${report.failed} failed, ${report.upToDate} up to date${report.pending ? `, ${report.pending} pending (dry run)` : ''}`,
  ].join('\n');
}
