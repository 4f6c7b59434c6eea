import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import {
  CleanReport,
  CleanRestoreReport,
  CleanTestDataService,
} from '../../scripts/migration/clean-test-data';
import { CleanException, CleanExceptionCode } from '../../scripts/migration/clean/clean.exception';
import { PlanSummary } from '../../scripts/migration/clean/plan-summary';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS, table } from '../runner/command-output.service';
import { collect, parseDuration } from '../runner/option-parsers';
import { lockTimeoutOf, SharedOptions } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

type CleanCommandOptions = BaseCommandOptions & {
  execute?: boolean;
  target?: string;
  rule?: string[];
  rulesFile?: string;
  maxBackupAge?: number;
  autoBackup?: boolean;
  lockTimeout?: number;
  restore?: string;
  acceptDuplicateRisk?: boolean;
};

@SharedOptions(['lockTimeout'], {
  lockTimeout: 'how long to wait for the migration lock and for the tables (default 60s)',
})
@Command({
  name: 'clean',
  description:
    'test data and stale rows by explicit rules, with what ON DELETE CASCADE takes along: dry run by default; ' +
    '--execute archives then deletes in one verified transaction; --restore puts an archive back',
})
export class CleanCommand extends TopsteelCommand<CleanCommandOptions, CleanReport | CleanRestoreReport> {
  protected readonly commandName = 'clean';

  constructor(
    contexts: CommandContextFactory,
    private readonly cleaner: CleanTestDataService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--execute',
    description:
      'archive, then delete in one transaction (under the migration lock); without it nothing is written',
  })
  parseExecute(): boolean {
    return true;
  }

  @Option({
    flags: '--target <database>',
    description: 'monolith (default, before the split) or auth (periodic session clean-up after the split)',
  })
  parseTarget(value: string): string {
    return value;
  }

  @Option({
    flags: '--rule <name>',
    description: 'run only this rule (repeatable); default: every rule of the target',
  })
  parseRule(value: string, previous?: string[]): string[] {
    return collect(value, previous);
  }

  @Option({
    flags: '--rules-file <path>',
    description:
      'add site rules from a JSON file: {"rules": [{"name", "description", "table", "predicate", "parameters"}]}',
  })
  parseRulesFile(value: string): string {
    return value;
  }

  @Option({
    flags: '--max-backup-age <duration>',
    description: 'execute on the monolith: newest acceptable matching db:backup (default 24h)',
  })
  parseMaxBackupAge(value: string): number {
    return parseDuration(value, '--max-backup-age');
  }

  @Option({
    flags: '--no-auto-backup',
    description: 'execute on the monolith: refuse when no usable db:backup exists instead of taking one',
  })
  parseAutoBackup(): boolean {
    return false;
  }

  @Option({
    flags: '--restore <archive>',
    description:
      'put back the archive BACKUP_DIR/clean/<archive> (one verified transaction; refuses on conflicts)',
  })
  parseRestore(value: string): string {
    return value;
  }

  @Option({
    flags: '--accept-duplicate-risk',
    description:
      '--restore: put back rows of tables without primary key even when PostgreSQL cannot tell whether ' +
      'the clean or an earlier restore committed (check first that they are absent)',
  })
  parseAcceptDuplicateRisk(): boolean {
    return true;
  }

  protected async execute(
    _parameters: string[],
    options: CleanCommandOptions,
    run: CliRunContext,
  ): Promise<CommandResult<CleanReport | CleanRestoreReport>> {
    const lockTimeoutMs = lockTimeoutOf(options);
    if (options.acceptDuplicateRisk && options.restore === undefined)
      throw new CleanException(
        CleanExceptionCode.InvalidOption,
        '--accept-duplicate-risk only applies to --restore',
      );
    if (options.restore !== undefined) {
      if (options.rule || options.rulesFile)
        throw new CleanException(
          CleanExceptionCode.InvalidOption,
          '--restore puts a whole archive back: it takes no --rule or --rules-file',
        );
      const report = await this.cleaner.restore(
        {
          archive: options.restore,
          target: options.target,
          lockTimeoutMs,
          acceptDuplicateRisk: options.acceptDuplicateRisk,
        },
        run,
      );
      return { exitCode: ExitCode.Success, report, text: renderRestore(report) };
    }
    const selection = { target: options.target, rules: options.rule, rulesFile: options.rulesFile };
    if (!options.execute) {
      const report = await this.cleaner.dryRun(selection);
      return {
        exitCode: report.refusals.length > 0 ? ExitCode.Failure : ExitCode.Success,
        report,
        text: renderClean(report),
      };
    }
    const report = await this.cleaner.execute(
      {
        ...selection,
        maxBackupAgeMs: options.maxBackupAge ?? 24 * 3600000,
        autoBackup: options.autoBackup !== false,
        lockTimeoutMs,
      },
      run,
    );
    return { exitCode: ExitCode.Success, report, text: renderClean(report) };
  }
}

function renderSummary(summary: PlanSummary, indent: string): string[] {
  const lines: string[] = [];
  if (summary.deleted.length > 0)
    lines.push(
      ...table(
        ['deleted from', 'rows', 'by rule', 'cascaded', 'sample keys'],
        summary.deleted.map((entry) => [
          entry.table,
          entry.rows,
          entry.ruleRows,
          entry.cascadedRows,
          entry.samples.slice(0, 3).join(' '),
        ]),
      )
        .split('\n')
        .map((line) => `${indent}${line}`),
    );
  if (summary.modified.length > 0) {
    lines.push(`${indent}changed by ON DELETE SET NULL (old values archived, restorable):`);
    for (const entry of summary.modified)
      lines.push(
        `${indent}  ${entry.table} (${entry.columns.join(', ')}): ${entry.rows} row(s), e.g. ${entry.samples.slice(0, 3).join(' ')}`,
      );
  }
  for (const entry of summary.blocked)
    lines.push(
      `${indent}${CROSS} ${entry.rows} row(s) of ${entry.table} block the delete through ${entry.constraint}`,
    );
  return lines;
}

export function renderClean(report: CleanReport): string {
  const heading =
    report.mode === 'dry-run'
      ? `db:clean dry run on ${report.target} (${report.database}): nothing is written`
      : `db:clean:execute on ${report.target} (${report.database})`;
  const lines = [heading, ''];
  for (const rule of report.rules) {
    lines.push(
      `Rule ${rule.name}${rule.origin === 'built-in' ? '' : ` (from ${rule.origin})`}: ${rule.description}`,
    );
    for (const selection of rule.selections)
      lines.push(`  ${selection.table} WHERE ${selection.predicate}${parameterList(selection.parameters)}`);
    lines.push(
      ...(rule.summary.deletedRows === 0 ? ['  nothing selected'] : renderSummary(rule.summary, '  ')),
      '',
    );
  }
  const totals = report.totals;
  if (report.nothingToDo) {
    lines.push(`${CHECK} Nothing to do: no row matches the rules.`);
  } else {
    lines.push(
      `Total, each row once: ${totals.deletedRows} row(s) in ${totals.deleted.length} table(s) ` +
        `${report.mode === 'dry-run' ? 'would be deleted' : 'deleted'}, ` +
        `${totals.modifiedRows} row(s) ${report.mode === 'dry-run' ? 'would be changed' : 'changed'} by ON DELETE SET NULL`,
    );
    lines.push(...renderSummary(totals, '  '));
  }
  if (report.backup) lines.push('', `Backup: ${report.backup.detail}`);
  if (report.archive)
    lines.push(
      '',
      `${CHECK} Archived to ${report.archive.path} (${report.archive.tables} file(s)), ` +
        `then deleted ${report.archive.deletedRows} row(s) and changed ${report.archive.modifiedRows} in one transaction; ` +
        'counts verified before COMMIT.',
    );
  if (report.refusals.length > 0)
    lines.push(
      '',
      `${CROSS} db:clean:execute would refuse:`,
      ...report.refusals.map((reason) => `  - ${reason}`),
    );
  if (report.notes.length > 0) lines.push('', ...report.notes.map((note) => `Note: ${note}`));
  if (report.mode === 'dry-run' && !report.nothingToDo && report.refusals.length === 0)
    lines.push('', `Next: npm run db:clean:execute${report.target === 'auth' ? ' -- --target auth' : ''}`);
  return lines.join('\n');
}

function renderRestore(report: CleanRestoreReport): string {
  return [
    `${CHECK} Archive ${report.archive.name} restored into ${report.database} (${report.target}) in one transaction: ` +
      `${report.insertedRows} row(s) inserted, ${report.updatedRows} row(s) given back the references ON DELETE SET NULL had emptied; ` +
      'counts and checksums equal to the archive.',
    '',
    table(
      ['table', 'action', 'rows', 'checksum'],
      report.tables.map((entry) => [entry.table, entry.action, entry.rows, entry.checksum]),
    ),
    '',
    ...report.established.map((fact) => `Checked: ${fact}`),
  ].join('\n');
}

/** "   [$1 = "x", $2 = 3]" after a predicate that takes parameters. */
function parameterList(parameters: unknown[]): string {
  if (parameters.length === 0) return '';
  return `   [${parameters.map((value, index) => `$${index + 1} = ${JSON.stringify(value)}`).join(', ')}]`;
}
