import { Injectable } from '@nestjs/common';
import { ExitCode } from '../../common/exceptions/exit-code';
import { InterruptedException } from '../../common/run/interrupted.exception';

type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/**
 * Graceful shutdown for long commands: the first SIGINT/SIGTERM asks the running step to finish or
 * undo itself (work checks `throwIfRequested` between units and listens on `signal`), the command
 * records it and exits 130/143; a second signal exits at once.
 */
@Injectable()
export class CommandShutdownService {
  #received?: ShutdownSignal;
  readonly #controller = new AbortController();
  #installed = false;

  install(onFirstSignal: (signal: ShutdownSignal) => void = () => undefined): void {
    if (this.#installed) return;
    this.#installed = true;
    const handler = (signal: ShutdownSignal) => {
      if (this.#received) {
        process.stderr.write(`\nSecond ${signal}: exiting now; the next run resumes from the journal.\n`);
        process.exit(this.exitCodeFor(signal));
      }
      this.#received = signal;
      onFirstSignal(signal);
      this.#controller.abort(new InterruptedException(signal));
    };
    process.on('SIGINT', () => handler('SIGINT'));
    process.on('SIGTERM', () => handler('SIGTERM'));
  }

  get requested(): ShutdownSignal | undefined {
    return this.#received;
  }

  /** Aborted on the first signal; pass it to work that can stop midway (COPY streams, child processes). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  throwIfRequested(): void {
    if (this.#received) throw new InterruptedException(this.#received);
  }

  exitCodeFor(signal: ShutdownSignal): ExitCode {
    return signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
  }
}
