import { ExitCode } from '../../common/exceptions/exit-code';
import { ConnectionRetry } from '../../modules/database/postgres-connection.factory';

/** The `error` of a failed run's document: what `TopsteelException.toJSON()` prints. */
export type CommandError = {
  domain: string;
  code: string;
  message: string;
  /** What to do next; an unexpected error says to report it. */
  hint?: string;
  details?: Record<string, unknown>;
};

export type CommandFailure = { error: CommandError };

/**
 * The one document a command prints with --json and writes with --report FILE (see
 * TopsteelCommand.publish). docs/schemas/ is generated from the instances in json-documents.ts.
 */
export type JsonDocument<Command extends string, Report> = {
  /** Bumped when a field is removed or changes meaning; see JSON_SCHEMA_VERSION. */
  schemaVersion: 1;
  command: Command;
  runId: string;
  exitCode: ExitCode;
  /** Present only when a connect needed retries. */
  connectionRetries?: ConnectionRetry[];
} & (Report | CommandFailure);
