import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../common/exceptions/topsteel.exception';

export enum SocieteExceptionCode {
  InvalidCode = 'INVALID_SOCIETE_CODE',
  InvalidInput = 'INVALID_SOCIETE_INPUT',
  AuthNotReady = 'AUTH_NOT_READY',
  Conflict = 'SOCIETE_CONFLICT',
  NotFound = 'SOCIETE_NOT_FOUND',
  DatabaseMissing = 'SOCIETE_DATABASE_MISSING',
  UserNotFound = 'USER_NOT_FOUND',
  UndoFailed = 'SOCIETE_UNDO_FAILED',
}

const INFO: Record<SocieteExceptionCode, ExceptionCodeInfo> = {
  [SocieteExceptionCode.InvalidCode]: {
    exitCode: ExitCode.Usage,
    hint: 'Use letters, digits and underscores only, starting with a letter or underscore, short enough for "<DB_TENANT_PREFIX>_<code>" to fit in 63 characters.',
  },
  [SocieteExceptionCode.InvalidInput]: {
    exitCode: ExitCode.Usage,
    hint: 'Fix the value named above and run the command again.',
  },
  [SocieteExceptionCode.AuthNotReady]: {
    exitCode: ExitCode.Failure,
    hint: 'The AUTH database (DB_AUTH_NAME) or its societes table does not exist yet: run db:migrate first.',
  },
  [SocieteExceptionCode.Conflict]: {
    exitCode: ExitCode.Failure,
    hint: 'Another société already uses this code, id or database; run db:societe:list and pick another code.',
  },
  [SocieteExceptionCode.NotFound]: {
    exitCode: ExitCode.Failure,
    hint: 'Run db:societe:list to see the sociétés and their codes.',
  },
  [SocieteExceptionCode.DatabaseMissing]: {
    exitCode: ExitCode.Failure,
    hint: 'The société is recorded but its database is gone. Restore the database from a backup (db:rollback or pg_restore) before using this société.',
  },
  [SocieteExceptionCode.UserNotFound]: {
    exitCode: ExitCode.Failure,
    hint: 'Check the user id or e-mail address; only users that are not deleted can be members.',
  },
  [SocieteExceptionCode.UndoFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Provisioning failed and its database could not be dropped again. Drop it by hand (it carries the topsteel-migration comment) or run db:rollback, then retry.',
  },
};

/** Errors of the société domain: provisioning, lookups and members. */
export class SocieteException extends TopsteelException<SocieteExceptionCode> {
  readonly domain = 'societe';

  constructor(
    code: SocieteExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
