import { ExitCode } from './exit-code';

export type ExceptionDetails = Record<string, unknown>;

/** What a code means for the user: the exit code it ends with and the next thing to do. */
export type ExceptionCodeInfo = { exitCode: ExitCode; hint: string };

/**
 * Base of the one-exception-class-per-domain rule: a stable code from the domain's enum, the exit
 * code of the contract, and a sentence saying what to do next. Messages never carry secrets: they
 * name variables and objects, not values that came from credentials.
 */
export abstract class TopsteelException<Code extends string = string> extends Error {
  abstract readonly domain: string;
  readonly exitCode: ExitCode;
  readonly hint: string;

  protected constructor(
    readonly code: Code,
    message: string,
    info: ExceptionCodeInfo,
    readonly details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = info.exitCode;
    this.hint = info.hint;
  }

  toJSON(): Record<string, unknown> {
    return {
      domain: this.domain,
      code: this.code,
      message: this.message,
      hint: this.hint,
      details: this.details,
    };
  }
}

export function isTopsteelException(error: unknown): error is TopsteelException {
  return error instanceof TopsteelException;
}
