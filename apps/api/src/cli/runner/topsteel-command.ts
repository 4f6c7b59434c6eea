import { Command as CommanderCommand } from 'commander';
import { CommandRunner } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { redactSecrets } from '../../common/secrets/secret';
import { isDatabaseError, translateDatabaseError } from '../../modules/database/database.exception';
import { CommandContextFactory } from './command-context.factory';
import { CliRunContext } from './command-context';
import { SharedOptions, SharedOptionValues } from './shared-options';

export type BaseCommandOptions = Pick<SharedOptionValues, 'json' | 'verbose'>;

/** What a command hands back: the exit code, the JSON report, and the human rendering of it. */
export type CommandResult<Report> = { exitCode: ExitCode; report: Report; text: string };

/**
 * The thin-command base: parses the shared flags, opens a run (id, log lines), calls the service,
 * renders the report on stdout (one JSON document with --json), and turns every failure into a
 * message, a next step and an exit code from the contract. Commands implement only `execute`.
 */
@SharedOptions(['json', 'verbose'])
export abstract class TopsteelCommand<Options extends BaseCommandOptions, Report> extends CommandRunner {
  protected abstract readonly commandName: string;

  constructor(protected readonly contexts: CommandContextFactory) {
    super();
  }

  protected abstract execute(
    parameters: string[],
    options: Options,
    run: CliRunContext,
  ): Promise<CommandResult<Report>>;

  /** Bad flags and stray arguments are usage errors (exit 2), like the rest of the contract. */
  override setCommand(command: CommanderCommand): this {
    command.exitOverride();
    command.allowExcessArguments(false);
    return super.setCommand(command);
  }

  async run(parameters: string[], options: Options): Promise<void> {
    const run = this.contexts.open(this.commandName, options);
    const output = run.output;
    try {
      const result = await this.execute(parameters, options, run);
      run.progress.stop();
      if (output.json)
        output.document({
          command: this.commandName,
          runId: run.runId,
          exitCode: result.exitCode,
          ...result.report,
        });
      else output.report(result.text);
      this.contexts.close(run, result.exitCode);
      process.exitCode = result.exitCode;
    } catch (thrown) {
      run.progress.stop();
      // A server error that no service translated (a value out of range, a dropped connection) is
      // still the server speaking, not a bug of ours: it gets the database domain's message and hint.
      const error = isDatabaseError(thrown) ? translateDatabaseError(thrown, 'PostgreSQL') : thrown;
      const exitCode = this.exitCodeOf(error, run);
      const failure = isTopsteelException(error)
        ? error.toJSON()
        : {
            domain: 'internal',
            code: 'UNEXPECTED',
            message: error instanceof Error ? error.message : String(error),
            hint: 'This is a bug: report it with logs/migration.log.',
          };
      if (output.json)
        output.document({ command: this.commandName, runId: run.runId, exitCode, error: failure });
      output.info(`\n✖ ${failure.message as string}`);
      if (failure.hint) output.info(`  → ${failure.hint as string}`);
      if (!isTopsteelException(error) && error instanceof Error && error.stack)
        output.detail(redactSecrets(error.stack));
      this.contexts.close(run, exitCode, failure);
      process.exitCode = exitCode;
    }
  }

  private exitCodeOf(error: unknown, run: CliRunContext): ExitCode {
    if (run.shutdown.requested) return run.shutdown.exitCodeFor(run.shutdown.requested);
    return isTopsteelException(error) ? error.exitCode : ExitCode.Failure;
  }
}
