import { Command as CommanderCommand } from 'commander';
import { CommandRunner } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { redactSecrets } from '../../common/secrets/secret';
import { isDatabaseError, translateDatabaseError } from '../../modules/database/database.exception';
import { CommandContextFactory } from './command-context.factory';
import { CliRunContext } from './command-context';
import { assertReportWritable, JSON_SCHEMA_VERSION, writeReportFile } from './report-file';
import { SharedOptions, SharedOptionValues } from './shared-options';

/** npm prints a banner on stdout unless -s: the help shows the forms whose stdout is the document alone. */
const NPM_SCRIPTS: Record<string, string> = {
  status: 'db:status',
  audit: 'db:audit',
  'dry-run': 'db:migration:dry-run',
  backup: 'db:backup',
  clean: 'db:clean',
  migrate: 'db:migrate',
  verify: 'db:verify',
  rollback: 'db:rollback',
  'societe:create': 'db:societe:create',
  'societe:list': 'db:societe:list',
  'societe:move': 'db:societe:move',
  cutover: 'db:cutover',
  demo: 'demo',
};

function jsonHelp(command: string): string {
  const script = NPM_SCRIPTS[command] ?? 'cli';
  return [
    '',
    'To read the JSON document (schema: docs/schemas/), keep npm quiet or use the bin:',
    `  npm run -s ${script} -- --json | jq .`,
    `  npx topsteel ${command} --json --report report.json`,
  ].join('\n');
}

export type BaseCommandOptions = Pick<SharedOptionValues, 'json' | 'verbose' | 'report'>;

/** What a command hands back: the exit code, the JSON report, and the human rendering of it. */
export type CommandResult<Report> = { exitCode: ExitCode; report: Report; text: string };

/**
 * The thin-command base: parses the shared flags, opens a run (id, log lines), calls the service,
 * renders the report on stdout (one JSON document with --json), and turns every failure into a
 * message, a next step and an exit code from the contract. Commands implement only `execute`.
 */
@SharedOptions(['json', 'verbose', 'report'])
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
    command.addHelpText('after', jsonHelp(this.commandName));
    return super.setCommand(command);
  }

  async run(parameters: string[], options: Options): Promise<void> {
    const run = this.contexts.open(this.commandName, options);
    let reportPath: string | undefined;
    try {
      reportPath = options.report === undefined ? undefined : assertReportWritable(options.report);
      const result = await this.execute(parameters, options, run);
      run.progress.stop();
      this.publish(run, reportPath, result.exitCode, result.report, result.text);
      this.reportRetries(run);
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
      this.publish(run, reportPath, exitCode, { error: failure });
      this.reportRetries(run);
      run.output.info(`\n✖ ${failure.message as string}`);
      if (failure.hint) run.output.info(`  → ${failure.hint as string}`);
      if (!isTopsteelException(error) && error instanceof Error && error.stack)
        run.output.detail(redactSecrets(error.stack));
      this.contexts.close(run, exitCode, failure);
      process.exitCode = exitCode;
    }
  }

  /** The one document of a run: on stdout with --json (the text otherwise), and in --report FILE. */
  private publish(
    run: CliRunContext,
    reportPath: string | undefined,
    exitCode: ExitCode,
    body: unknown,
    text?: string,
  ): void {
    const output = run.output;
    const retries = this.contexts.connectionRetries();
    const document = {
      schemaVersion: JSON_SCHEMA_VERSION,
      command: this.commandName,
      runId: run.runId,
      exitCode,
      ...(body as object),
      ...(retries.length > 0 ? { connectionRetries: retries } : {}),
    };
    if (output.json) output.document(document);
    else if (text !== undefined) output.report(text);
    if (reportPath) writeReportFile(reportPath, output.serialise(document));
  }

  /** One line on stderr per connect that needed retries, so the human output says so too. */
  private reportRetries(run: CliRunContext): void {
    for (const retry of this.contexts.connectionRetries()) {
      run.output.info(
        `ℹ️ ${retry.target}: ${retry.recovered ? 'connected' : 'gave up'} after ${retry.attempts} attempts (${retry.reasons.join(', ')})`,
      );
    }
  }

  private exitCodeOf(error: unknown, run: CliRunContext): ExitCode {
    if (run.shutdown.requested) return run.shutdown.exitCodeFor(run.shutdown.requested);
    return isTopsteelException(error) ? error.exitCode : ExitCode.Failure;
  }
}
