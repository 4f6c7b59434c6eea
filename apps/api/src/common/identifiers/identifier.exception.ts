import { ExitCode } from '../exceptions/exit-code';
import { ExceptionCodeInfo, ExceptionDetails, TopsteelException } from '../exceptions/topsteel.exception';

export enum IdentifierExceptionCode {
  UnsafeIdentifier = 'UNSAFE_IDENTIFIER',
  InvalidName = 'INVALID_NAME',
}

const INFO: Record<IdentifierExceptionCode, ExceptionCodeInfo> = {
  [IdentifierExceptionCode.UnsafeIdentifier]: {
    exitCode: ExitCode.Usage,
    hint: 'Use only lower-case letters, digits and underscores, starting with a letter or underscore (63 characters at most).',
  },
  [IdentifierExceptionCode.InvalidName]: {
    exitCode: ExitCode.Failure,
    hint: 'The catalogue returned a name that cannot be quoted; report it with the audit output.',
  },
};

export class IdentifierException extends TopsteelException<IdentifierExceptionCode> {
  readonly domain = 'identifier';

  constructor(code: IdentifierExceptionCode, message: string, details: ExceptionDetails) {
    super(code, message, INFO[code], details);
  }
}
