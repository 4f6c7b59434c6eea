import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../common/exceptions/topsteel.exception';

export enum UsageExceptionCode {
  InvalidOption = 'INVALID_OPTION',
  NotBuilt = 'NOT_BUILT',
  ConfirmationRequired = 'CONFIRMATION_REQUIRED',
}

const INFO: Record<UsageExceptionCode, ExceptionCodeInfo> = {
  [UsageExceptionCode.InvalidOption]: {
    exitCode: ExitCode.Usage,
    hint: 'Run the command with --help to see its options.',
  },
  [UsageExceptionCode.NotBuilt]: {
    exitCode: ExitCode.Usage,
    hint: 'This command is not available in this version of the tool.',
  },
  [UsageExceptionCode.ConfirmationRequired]: {
    exitCode: ExitCode.Usage,
    hint: 'Run it on a terminal to answer the prompt, or pass --yes in scripts once you have read the validation.',
  },
};

export class UsageException extends TopsteelException<UsageExceptionCode> {
  readonly domain = 'cli';

  constructor(code: UsageExceptionCode, message: string, details: ExceptionDetails = {}) {
    super(code, message, INFO[code], details);
  }
}
