import { ExitCode } from '../../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../../common/exceptions/topsteel.exception';

export enum BackupExceptionCode {
  ToolMissing = 'TOOL_MISSING',
  ToolTooOld = 'TOOL_TOO_OLD',
  FolderNotWritable = 'FOLDER_NOT_WRITABLE',
  DiskFull = 'DISK_FULL',
  DumpFailed = 'DUMP_FAILED',
  RestoreFailed = 'RESTORE_FAILED',
  NoBackup = 'NO_BACKUP',
  Corrupted = 'CORRUPTED',
  Mismatch = 'MISMATCH',
}

const INFO: Record<BackupExceptionCode, ExceptionCodeInfo> = {
  [BackupExceptionCode.ToolMissing]: {
    exitCode: ExitCode.Failure,
    hint: 'Install the PostgreSQL client tools matching the server (e.g. apt install postgresql-client-15) or set PG_BIN_DIR.',
  },
  [BackupExceptionCode.ToolTooOld]: {
    exitCode: ExitCode.Failure,
    hint: 'pg_dump/pg_restore must not be older than the server: install a newer client or set PG_BIN_DIR to one.',
  },
  [BackupExceptionCode.FolderNotWritable]: {
    exitCode: ExitCode.Usage,
    hint: 'Point BACKUP_DIR at a folder this user can create and write, then retry.',
  },
  [BackupExceptionCode.DiskFull]: {
    exitCode: ExitCode.Failure,
    hint: 'Free space on the BACKUP_DIR file system (or point BACKUP_DIR elsewhere); the partial backup was removed.',
  },
  [BackupExceptionCode.DumpFailed]: {
    exitCode: ExitCode.Failure,
    hint: "Read pg_dump's message above; the partial backup was removed and nothing else changed. Fix the cause and retry.",
  },
  [BackupExceptionCode.RestoreFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The restore stopped at the first error (shown above); the half-restored database was dropped and nothing was swapped.',
  },
  [BackupExceptionCode.NoBackup]: {
    exitCode: ExitCode.Failure,
    hint: 'Take one with npm run db:backup.',
  },
  [BackupExceptionCode.Corrupted]: {
    exitCode: ExitCode.Failure,
    hint: 'This backup cannot be trusted: take a new one with npm run db:backup (or use another backup folder).',
  },
  [BackupExceptionCode.Mismatch]: {
    exitCode: ExitCode.Failure,
    hint: 'The restored data differs from what the manifest recorded; nothing was swapped. Keep the backup folder and investigate.',
  },
};

export class BackupException extends TopsteelException<BackupExceptionCode> {
  readonly domain = 'backup';

  constructor(
    code: BackupExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
