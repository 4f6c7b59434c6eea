import { ExitCode } from '../exceptions/exit-code';
import { ExceptionCodeInfo, TopsteelException } from '../exceptions/topsteel.exception';

export enum InterruptedExceptionCode {
  Interrupted = 'INTERRUPTED',
  Terminated = 'TERMINATED',
}

const INFO: Record<InterruptedExceptionCode, ExceptionCodeInfo> = {
  [InterruptedExceptionCode.Interrupted]: {
    exitCode: ExitCode.Interrupted,
    hint: 'Stopped on SIGINT after finishing or undoing the current step. Run the same command again to resume.',
  },
  [InterruptedExceptionCode.Terminated]: {
    exitCode: ExitCode.Terminated,
    hint: 'Stopped on SIGTERM after finishing or undoing the current step. Run the same command again to resume.',
  },
};

export class InterruptedException extends TopsteelException<InterruptedExceptionCode> {
  readonly domain = 'cli';

  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    const code =
      signal === 'SIGINT' ? InterruptedExceptionCode.Interrupted : InterruptedExceptionCode.Terminated;
    super(code, `interrupted by ${signal}`, INFO[code], { signal });
  }
}
