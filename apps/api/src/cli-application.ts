import 'reflect-metadata';
import { deferInquirer } from './cli/runner/lazy-inquirer';
deferInquirer(); // before nest-commander is first required, below and by every command
import { Type } from '@nestjs/common';
import { CommanderError } from 'commander';
import { CommandFactory } from 'nest-commander';
import { ExitCode } from './common/exceptions/exit-code';
import { isTopsteelException } from './common/exceptions/topsteel.exception';
import { redactSecrets } from './common/secrets/secret';
import { CommandShutdownService } from './cli/runner/command-shutdown.service';

/** Exit code for an error that escaped a command: commander's parse errors are usage errors. */
function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)
      ? ExitCode.Success
      : ExitCode.Usage;
  }
  return isTopsteelException(error) ? error.exitCode : ExitCode.Failure;
}

/**
 * Commands whose module holds only what they use, loaded instead of CliModule when the command is
 * the first argument. Anything else (another command, an error, `help`) gets the full CLI.
 */
const OWN_MODULES: Record<string, () => Type> = {
  status: () =>
    (require('./cli/status-cli.module') as typeof import('./cli/status-cli.module')).StatusCliModule,
  backup: () =>
    (require('./cli/backup-cli.module') as typeof import('./cli/backup-cli.module')).BackupCliModule,
  migrate: () =>
    (require('./cli/migrate-cli.module') as typeof import('./cli/migrate-cli.module')).MigrateCliModule,
};

function rootModule(argv: readonly string[]): Type {
  const own = OWN_MODULES[argv[0]];
  return own ? own() : (require('./cli.module') as typeof import('./cli.module')).CliModule;
}

/**
 * The CLI entry: a Nest application context without HTTP, our own error handling (commander errors
 * are exit 2, domain errors carry their exit code), graceful signals, and every pool closed before
 * the process exits with the command's code.
 */
async function bootstrap(): Promise<void> {
  // Commander names the program after argv[1]; help and errors should say "topsteel", not "cli".
  process.argv[1] = 'topsteel';
  let escaped: unknown;
  const app = await CommandFactory.createWithoutRunning(rootModule(process.argv.slice(2)), {
    logger: ['error'],
    cliName: 'topsteel',
    errorHandler: (error) => {
      throw error;
    },
    serviceErrorHandler: (error) => {
      escaped = error;
    },
  });
  app
    .get(CommandShutdownService)
    .install((signal) =>
      process.stderr.write(
        `\n${signal} received: finishing the current step, then stopping (send it again to exit now).\n`,
      ),
    );
  await CommandFactory.runApplication(app);
  if (escaped !== undefined) {
    const code = exitCodeFor(escaped);
    if (isTopsteelException(escaped)) {
      process.stderr.write(`✖ ${redactSecrets(escaped.message)}\n  → ${escaped.hint}\n`);
    }
    // Commander already printed its own message (unknown option, missing argument, help).
    process.exitCode = code;
  }
  await app.close();
}

bootstrap()
  .catch((error: unknown) => {
    process.stderr.write(`✖ ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = exitCodeFor(error);
  })
  .finally(() => {
    const code = process.exitCode ?? 0;
    // process.exit does not wait for a piped stdout: a --json document larger than the pipe's
    // buffer (a backup manifest with its schema fingerprint) would reach the reader cut short.
    process.stdout.write('', () => process.exit(code));
  });
