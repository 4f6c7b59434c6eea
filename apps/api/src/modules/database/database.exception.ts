import { DatabaseError } from 'pg';
import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../common/exceptions/topsteel.exception';

export enum DatabaseExceptionCode {
  Unreachable = 'UNREACHABLE',
  AuthenticationFailed = 'AUTHENTICATION_FAILED',
  PasswordRequired = 'PASSWORD_REQUIRED',
  DatabaseMissing = 'DATABASE_MISSING',
  PermissionDenied = 'PERMISSION_DENIED',
  TooManyConnections = 'TOO_MANY_CONNECTIONS',
  QueryFailed = 'QUERY_FAILED',
  LockHeld = 'LOCK_HELD',
  LockLost = 'LOCK_LOST',
  NotOwnedByTool = 'NOT_OWNED_BY_TOOL',
  HoldsData = 'DATABASE_HOLDS_DATA',
  SocieteNotFound = 'SOCIETE_NOT_FOUND',
  UnknownServer = 'UNKNOWN_SERVER',
}

const INFO: Record<DatabaseExceptionCode, ExceptionCodeInfo> = {
  [DatabaseExceptionCode.Unreachable]: {
    exitCode: ExitCode.Failure,
    hint: 'Check that PostgreSQL is running and that DB_HOST/DB_PORT point at it (firewall, DNS, DB_CONNECTION_TIMEOUT), then retry.',
  },
  [DatabaseExceptionCode.AuthenticationFailed]: {
    exitCode: ExitCode.Usage,
    hint: 'Check DB_USERNAME and DB_PASSWORD (and pg_hba.conf on the server), then retry.',
  },
  [DatabaseExceptionCode.PasswordRequired]: {
    exitCode: ExitCode.Usage,
    hint: 'The server asks for a password: set DB_PASSWORD in .env or the environment.',
  },
  [DatabaseExceptionCode.DatabaseMissing]: {
    exitCode: ExitCode.Failure,
    hint: 'Check the database name in the configuration (DB_NAME for the monolith); run db:status to see what exists.',
  },
  [DatabaseExceptionCode.PermissionDenied]: {
    exitCode: ExitCode.Failure,
    hint: 'Grant the missing privilege to DB_USERNAME (it needs CREATEDB and ownership of the databases it manages), then retry.',
  },
  [DatabaseExceptionCode.TooManyConnections]: {
    exitCode: ExitCode.Failure,
    hint: 'The server has no free connection: lower --jobs or TENANT_MAX_DATASOURCES, or raise max_connections.',
  },
  [DatabaseExceptionCode.QueryFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Read the server message above; nothing was committed by the failed statement. Fix the cause and run the command again.',
  },
  [DatabaseExceptionCode.LockHeld]: {
    exitCode: ExitCode.LockHeld,
    hint: 'Another run of the tool is writing. Wait for it to finish (db:status shows it) or raise --lock-timeout.',
  },
  [DatabaseExceptionCode.LockLost]: {
    exitCode: ExitCode.Failure,
    hint: 'The connection holding the migration lock was lost; the current step was stopped. Run the command again to resume.',
  },
  [DatabaseExceptionCode.NotOwnedByTool]: {
    exitCode: ExitCode.Failure,
    hint: 'The database exists but this installation did not create it (no marker of the tool, or the marker of another installation: another DB_AUTH_NAME sharing the DB_TENANT_PREFIX); it is never modified or dropped. Rename or remove it yourself, or change the configured name or DB_TENANT_PREFIX.',
  },
  [DatabaseExceptionCode.HoldsData]: {
    exitCode: ExitCode.Failure,
    hint: "The database carries the tool's marker but still holds rows (a société deleted without its database, a reused code): it is never adopted, emptied or dropped. Check what is in it, then drop it yourself or use another code.",
  },
  [DatabaseExceptionCode.SocieteNotFound]: {
    exitCode: ExitCode.Failure,
    hint: 'Run db:societe:list to see the sociétés and their codes.',
  },
  [DatabaseExceptionCode.UnknownServer]: {
    exitCode: ExitCode.Usage,
    hint: 'Declare the server in TENANT_SERVERS (name=host:port) or use one that is declared there; db:status lists them.',
  },
};

export class DatabaseException extends TopsteelException<DatabaseExceptionCode> {
  readonly domain = 'database';

  constructor(
    code: DatabaseExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}

type PgLikeError = Error & { code?: string; errors?: unknown[] };

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
]);

function errorCode(error: PgLikeError): string | undefined {
  if (error.code) return error.code;
  const nested = error.errors?.find(
    (inner): inner is PgLikeError => inner instanceof Error && 'code' in inner,
  );
  return nested?.code;
}

/**
 * Why a failed connect is worth another try: the server or a pooler turned us away for a moment
 * (restarting, in a checkpoint storm, out of connection slots). Wrong credentials, a missing
 * database or a bad host are not: undefined.
 */
const TRANSIENT_CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', '57P03', '53300']);

export function transientConnectReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = errorCode(error);
  if (code && TRANSIENT_CONNECT_CODES.has(code)) return code;
  // A pooler that restarts closes the socket during the handshake.
  if (code === undefined && /Connection terminated unexpectedly/.test(error.message))
    return 'connection closed';
  return undefined;
}

/** A connection that broke under the driver (not a server error with a SQLSTATE). */
const BROKEN_CONNECTION = /timeout|Connection terminated|not queryable/i;

/** An error that came from the server or the driver, which translateDatabaseError can name. */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof DatabaseError || (error instanceof Error && BROKEN_CONNECTION.test(error.message));
}

/**
 * Turns a driver error into a DatabaseException with a code and a next step. `target` names what we
 * were talking to (e.g. `database "erp_topsteel" on localhost:5432`), never credentials.
 */
export function translateDatabaseError(error: unknown, target: string): Error {
  if (error instanceof TopsteelException) return error;
  if (!(error instanceof Error))
    return new DatabaseException(DatabaseExceptionCode.QueryFailed, `${target}: ${String(error)}`);
  const pgError = error as PgLikeError;
  const code = errorCode(pgError);
  const details = { target, sqlState: code };
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  if ((code && NETWORK_CODES.has(code)) || (!isSqlState && BROKEN_CONNECTION.test(error.message))) {
    return new DatabaseException(
      DatabaseExceptionCode.Unreachable,
      `cannot reach ${target} (${code ?? error.message})`,
      details,
      { cause: error },
    );
  }
  if (/password must be a string|no password supplied/i.test(error.message)) {
    return new DatabaseException(
      DatabaseExceptionCode.PasswordRequired,
      `${target} requires a password and DB_PASSWORD is empty`,
      details,
    );
  }
  switch (code) {
    case '28P01':
    case '28000':
      return new DatabaseException(
        DatabaseExceptionCode.AuthenticationFailed,
        `authentication to ${target} failed for DB_USERNAME`,
        details,
      );
    case '3D000':
      return new DatabaseException(
        DatabaseExceptionCode.DatabaseMissing,
        `${target} does not exist`,
        details,
      );
    case '42501':
      return new DatabaseException(
        DatabaseExceptionCode.PermissionDenied,
        `${target}: ${error.message}`,
        details,
        { cause: error },
      );
    case '53300':
    case '57P03':
      return new DatabaseException(
        DatabaseExceptionCode.TooManyConnections,
        `${target}: ${error.message}`,
        details,
        { cause: error },
      );
    default:
      return new DatabaseException(
        DatabaseExceptionCode.QueryFailed,
        `${target}: ${error.message}`,
        details,
        { cause: error },
      );
  }
}
