import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { DryRunMigrationService, DryRunReport } from '../../scripts/migration/dry-run-migration';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS, table } from '../runner/command-output.service';
import { SharedOptions, SharedOptionValues } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { renderFindings } from './render-findings';
import { renderChecks } from './render-checks';
import { OnlinePreflightService } from '../../scripts/migration/online/online-preflight.service';

type DryRunOptions = BaseCommandOptions &
  Pick<SharedOptionValues, 'excludeTable' | 'jobs'> & { online?: boolean };

@SharedOptions(['excludeTable', 'jobs'], {
  jobs: 'tables db:migrate would copy in parallel (checked against the free connections, capped by them)',
})
@Command({
  name: 'dry-run',
  description:
    'every pre-flight check with ✅/❌ and why, then the plan: databases to create, tables to copy with row counts, exclusions',
})
export class DryRunCommand extends TopsteelCommand<DryRunOptions, DryRunReport> {
  protected readonly commandName = 'dry-run';

  constructor(
    contexts: CommandContextFactory,
    private readonly dryRun: DryRunMigrationService,
    private readonly online: OnlinePreflightService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--online',
    description: 'also check what the online split needs (wal_level=logical, replica identities)',
  })
  parseOnline(): boolean {
    return true;
  }

  protected async execute(
    _parameters: string[],
    options: DryRunOptions,
    run: CliRunContext,
  ): Promise<CommandResult<DryRunReport>> {
    const { report: offline } = await this.dryRun.preflight({
      excludeTables: options.excludeTable,
      jobs: options.jobs,
    });
    const report = options.online ? await this.online.extend(offline) : offline;
    if (report.jobs?.note) run.info(`⚠ ${report.jobs.note}.`);
    return { exitCode: report.ok ? ExitCode.Success : ExitCode.Failure, report, text: renderDryRun(report) };
  }
}

export function renderDryRun(report: DryRunReport): string {
  const lines = ['Pre-flight checks', ...renderChecks(report.checks)];
  if (report.plan.databases.length > 0) {
    lines.push(
      '',
      'Databases',
      ...report.plan.databases.map((database) => `  ${database.name} (${database.kind}): ${database.action}`),
    );
  }
  if (report.plan.tables.length > 0) {
    lines.push(
      '',
      `Tables to copy (${report.plan.tables.length}, ${report.plan.totalRows} rows)`,
      table(
        ['source', 'target', 'rows'],
        report.plan.tables.map((entry) => [entry.source, `${entry.database}.${entry.target}`, entry.rows]),
      ),
    );
  }
  if (report.plan.excluded.length > 0) {
    lines.push('', 'Excluded', ...report.plan.excluded.map((entry) => `  ${entry.source}: ${entry.reason}`));
  }
  const notable = report.findings.filter((finding) => finding.severity !== 'info');
  if (notable.length > 0) lines.push('', 'Findings', renderFindings(notable));
  if (report.notes.length > 0) lines.push('', ...report.notes.map((note) => `Note: ${note}`));
  const failed = report.checks.filter((check) => !check.ok).length;
  lines.push(
    '',
    failed === 0
      ? `${CHECK} ready to migrate`
      : `${CROSS} ${failed} check(s) failed: fix them before db:migrate`,
  );
  return lines.join('\n');
}
