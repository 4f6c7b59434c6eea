import { ExitCode } from '../../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../../common/exceptions/topsteel.exception';

export enum MoveExceptionCode {
  UnknownSociete = 'MOVE_UNKNOWN_SOCIETE',
  UnknownServer = 'MOVE_UNKNOWN_SERVER',
  SameServer = 'MOVE_SAME_SERVER',
  AuthNotReady = 'MOVE_AUTH_NOT_READY',
  SourceMissing = 'MOVE_SOURCE_MISSING',
  TargetExists = 'MOVE_TARGET_EXISTS',
  SchemaMismatch = 'MOVE_SCHEMA_MISMATCH',
  VerifyFailed = 'MOVE_VERIFY_FAILED',
  DumpFailed = 'MOVE_DUMP_FAILED',
  Failed = 'MOVE_FAILED',
}

const INFO: Record<MoveExceptionCode, ExceptionCodeInfo> = {
  [MoveExceptionCode.UnknownSociete]: {
    exitCode: ExitCode.Usage,
    hint: 'Run db:societe:list to see the sociétés and their codes. Nothing was changed.',
  },
  [MoveExceptionCode.UnknownServer]: {
    exitCode: ExitCode.Usage,
    hint: 'Declare the server in TENANT_SERVERS (name=host:port) or pick one that is declared. Nothing was changed.',
  },
  [MoveExceptionCode.SameServer]: {
    exitCode: ExitCode.Usage,
    hint: 'The société already lives on that server: nothing to move. Nothing was changed.',
  },
  [MoveExceptionCode.AuthNotReady]: {
    exitCode: ExitCode.Failure,
    hint: 'AUTH lacks societes.moving_since (AUTH migration 003) or does not exist yet: run db:migrate first.',
  },
  [MoveExceptionCode.SourceMissing]: {
    exitCode: ExitCode.Failure,
    hint: 'The société is recorded but its database is not on its server. Restore it (pg_restore from BACKUP_DIR) before moving it.',
  },
  [MoveExceptionCode.TargetExists]: {
    exitCode: ExitCode.Failure,
    hint: 'A database with this name already exists on the target server and was not created by this move; it is left untouched. Drop or rename it yourself if it is not needed, then run the move again.',
  },
  [MoveExceptionCode.SchemaMismatch]: {
    exitCode: ExitCode.Failure,
    hint: 'The tenant migrations do not produce the source database’s tables and columns: run db:migrate so the source is current (same MIGRATIONS_EXTRA_DIR), then move again. The société stays where it was.',
  },
  [MoveExceptionCode.VerifyFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The copy does not match the source; the partial copy was dropped and the société stays where it was. Run the move again; if it fails the same way, report the tables named above.',
  },
  [MoveExceptionCode.DumpFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The société already lives on its new server; the old database was kept because its dump failed. Fix the cause (disk space, BACKUP_DIR, pg_dump) and run the same move again to dump and drop it.',
  },
  [MoveExceptionCode.Failed]: {
    exitCode: ExitCode.Failure,
    hint: 'Run the same move again: it undoes an unfinished copy, or finishes the dump and drop after the switch.',
  },
};

/** Errors of db:societe:move. */
export class MoveException extends TopsteelException<MoveExceptionCode> {
  readonly domain = 'move';

  constructor(
    code: MoveExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
