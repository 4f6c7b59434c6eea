import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { VerifyMigrationService, VerifyReport } from '../../scripts/migration/verify-migration';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS } from '../runner/command-output.service';
import { parsePositiveInteger } from '../runner/option-parsers';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { defaultJobs } from './dry-run.command';

type VerifyOptions = BaseCommandOptions & { jobs?: number };

@Command({
  name: 'verify',
  description:
    'post-migration checks: counts and checksums, cross-database references, every user in a société, tenant databases closed to PUBLIC',
})
export class VerifyCommand extends TopsteelCommand<VerifyOptions, VerifyReport> {
  protected readonly commandName = 'verify';

  constructor(
    contexts: CommandContextFactory,
    private readonly verifier: VerifyMigrationService,
  ) {
    super(contexts);
  }

  @Option({ flags: '--jobs <n>', description: 'sessions used for the checksums' })
  parseJobs(value: string): number {
    return parsePositiveInteger(value, '--jobs', 64);
  }

  protected async execute(
    _parameters: string[],
    options: VerifyOptions,
  ): Promise<CommandResult<VerifyReport>> {
    const report = await this.verifier.verify({ jobs: options.jobs ?? defaultJobs() });
    const text = [
      `Verification against the ${report.comparedWith}`,
      ...report.checks.map((check) => `  ${check.ok ? CHECK : CROSS} ${check.label}: ${check.detail}`),
      '',
      `Counts: ${Object.entries(report.counts)
        .map(([name, count]) => `${name} ${count}`)
        .join(', ')}`,
      '',
      report.ok
        ? `${CHECK} all checks pass`
        : `${CROSS} ${report.checks.filter((check) => !check.ok).length} check(s) failed`,
    ].join('\n');
    return { exitCode: report.ok ? ExitCode.Success : ExitCode.Failure, report, text };
  }
}
