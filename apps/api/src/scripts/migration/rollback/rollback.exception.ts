import { ExitCode } from '../../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../../common/exceptions/topsteel.exception';

export enum RollbackExceptionCode {
  ValidationFailed = 'VALIDATION_FAILED',
  NothingToRollBack = 'NOTHING_TO_ROLL_BACK',
  Declined = 'DECLINED',
  WrittenAfterDump = 'WRITTEN_AFTER_DUMP',
  Inconsistent = 'INCONSISTENT',
  InProgress = 'IN_PROGRESS',
  StoppedBeforeSwap = 'STOPPED_BEFORE_SWAP',
  ReverseSyncBehind = 'REVERSE_SYNC_BEHIND',
}

const INFO: Record<RollbackExceptionCode, ExceptionCodeInfo> = {
  [RollbackExceptionCode.ValidationFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was changed. Run npm run db:rollback:validate, fix each ❌ (or pass --accept-data-loss knowingly), then retry.',
  },
  [RollbackExceptionCode.NothingToRollBack]: {
    exitCode: ExitCode.Failure,
    hint: 'No database created by this tool exists and the monolith matches its backup: there is nothing to undo.',
  },
  [RollbackExceptionCode.Declined]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was changed.',
  },
  [RollbackExceptionCode.WrittenAfterDump]: {
    exitCode: ExitCode.Failure,
    hint: 'Something wrote to the database after its pre-drop dump; it was not dropped. Stop the application, then run npm run db:rollback again: it dumps it anew.',
  },
  [RollbackExceptionCode.Inconsistent]: {
    exitCode: ExitCode.Failure,
    hint: 'The databases are not where the rollback record says; nothing more was changed. Compare db:status with the rollback record (BACKUP_DIR/rollback/in-progress-<AUTH database>.json) before acting by hand.',
  },
  [RollbackExceptionCode.StoppedBeforeSwap]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was dropped or renamed: AUTH, SHARED, the tenants and the monolith are where they were, and open. Fix the cause the message names (room on the server, pg_restore, a session holding the monolith), then run npm run db:rollback again.',
  },
  [RollbackExceptionCode.InProgress]: {
    exitCode: ExitCode.Failure,
    hint: 'Finish it first with npm run db:rollback (it resumes where it stopped), then migrate again.',
  },
  [RollbackExceptionCode.ReverseSyncBehind]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was dropped and the new databases accept writes again. The message names the subscription and, for a conflict, the row the monolith already holds; resolve it, enable the subscription again as the message shows, then run npm run db:rollback again; npm run db:status shows the reverse sync.',
  },
};

export class RollbackException extends TopsteelException<RollbackExceptionCode> {
  readonly domain = 'rollback';

  constructor(code: RollbackExceptionCode, message: string, details: ExceptionDetails = {}) {
    super(code, message, INFO[code], details);
  }
}
