import { Command } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { AuditReport, AuditService } from '../../scripts/migration/audit-current-data';
import { CommandContextFactory } from '../runner/command-context.factory';
import { formatBytes, table } from '../runner/command-output.service';
import { SharedOptions, SharedOptionValues } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { renderFindings } from './render-findings';

type AuditOptions = BaseCommandOptions & Pick<SharedOptionValues, 'excludeTable'>;

@SharedOptions(['excludeTable'])
@Command({
  name: 'audit',
  description:
    'analyse the monolith: rows, soft-deleted rows, sizes and destinations, plan coverage, ' +
    'data-quality findings and recommendations (JSON report under LOG_DIR)',
})
export class AuditCommand extends TopsteelCommand<AuditOptions, AuditReport> {
  protected readonly commandName = 'audit';

  constructor(
    contexts: CommandContextFactory,
    private readonly audit: AuditService,
  ) {
    super(contexts);
  }

  protected async execute(_parameters: string[], options: AuditOptions): Promise<CommandResult<AuditReport>> {
    const report = await this.audit.audit({ excludeTables: options.excludeTable });
    // The audit describes; it does not gate. Blockers fail db:migration:dry-run, not this command.
    return { exitCode: ExitCode.Success, report, text: render(report) };
  }
}

function render(report: AuditReport): string {
  const summary = report.summary;
  return [
    `Audit of ${report.database} (PostgreSQL ${report.serverVersion})`,
    `${summary.tables} tables, ${summary.rows} rows (${summary.softDeleted} soft-deleted), ${formatBytes(summary.sizeBytes)}`,
    '',
    table(
      ['table', 'rows', 'soft-deleted', 'size', 'destination'],
      report.tables.map((row) => [
        row.name,
        row.rows,
        row.softDeleted ?? '',
        formatBytes(row.sizeBytes),
        row.destination,
      ]),
    ),
    '',
    `Plan coverage: ${report.coverage.planned} tables copied, ${report.coverage.excluded.length} excluded, ` +
      `${report.coverage.unknownTables.length} unknown tables, ${report.coverage.unknownColumns.length} unknown columns`,
    '',
    `Findings: ${summary.blockers} blocker(s), ${summary.warnings} warning(s), ${summary.infos} info`,
    renderFindings(report.findings),
    '',
    'Recommendations:',
    ...report.recommendations.map((recommendation, index) => `  ${index + 1}. ${recommendation}`),
    '',
    `Full report: ${report.reportPath}`,
  ].join('\n');
}
