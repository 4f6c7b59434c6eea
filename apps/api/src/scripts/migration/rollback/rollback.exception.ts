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
};

export class RollbackException extends TopsteelException<RollbackExceptionCode> {
  readonly domain = 'rollback';

  constructor(code: RollbackExceptionCode, message: string, details: ExceptionDetails = {}) {
    super(code, message, INFO[code], details);
  }
}
