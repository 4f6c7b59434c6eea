import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { Secret } from '../../common/secrets/secret';
import { AccessCheckReport, AccessCheckService } from '../../modules/access-check/access-check.service';
import {
  VerifyMigrationService,
  VerifyReport,
} from '../../scripts/migration/verify-command/verify-migration.service';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS } from '../runner/command-output.service';
import { SharedOptions, SharedOptionValues } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';
import { renderChecks } from './render-checks';

type VerifyOptions = BaseCommandOptions & Pick<SharedOptionValues, 'jobs'> & { login?: string };
export type VerifyCommandReport = VerifyReport & { login?: AccessCheckReport };

@SharedOptions(['jobs'], { jobs: 'sessions computing the checksums; capped by the free connections' })
@Command({
  name: 'verify',
  description:
    'post-migration checks: counts and checksums, cross-database references, every user in a société, tenant databases closed to PUBLIC',
})
export class VerifyCommand extends TopsteelCommand<VerifyOptions, VerifyCommandReport> {
  protected readonly commandName = 'verify';

  constructor(
    contexts: CommandContextFactory,
    private readonly verifier: VerifyMigrationService,
    private readonly access: AccessCheckService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--login <email>',
    description:
      'also log in as this user (password from VERIFY_PASSWORD) and check sociétés, shared data and isolation as the app does',
  })
  parseLogin(value: string): string {
    return value;
  }

  protected async execute(
    _parameters: string[],
    options: VerifyOptions,
    run: CliRunContext,
  ): Promise<CommandResult<VerifyCommandReport>> {
    const password = process.env.VERIFY_PASSWORD;
    if (options.login && !password) {
      throw new UsageException(
        UsageExceptionCode.InvalidOption,
        '--login needs the password in VERIFY_PASSWORD (never on the command line)',
      );
    }
    const verification = await this.verifier.verify({ jobs: options.jobs }, run);
    const login = options.login
      ? await this.access.checkLogin(options.login, new Secret(password ?? ''))
      : undefined;
    const report: VerifyCommandReport = {
      ...verification,
      ok: verification.ok && (login?.ok ?? true),
      checks: [
        ...verification.checks,
        ...(login?.checks ?? []).map((check) => ({
          id: `login-${check.name}`,
          label: `phase 3: ${check.name}`,
          ok: check.ok,
          detail: check.skipped ? `skipped: ${check.detail}` : check.detail,
        })),
      ],
      login,
    };
    const text = [
      `Verification against the ${report.comparedWith}`,
      ...renderChecks(report.checks),
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
