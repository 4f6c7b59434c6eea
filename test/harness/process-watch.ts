import { ChildProcess } from 'node:child_process';
import { CliResult } from './cli';

/** Collects a child's output and resolves `waitFor` promises when a pattern shows up on stderr. */
export class WatchedProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  #waiters: { pattern: RegExp; count: number; resolve: () => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.check();
    });
    this.done = new Promise((resolve) =>
      child.on('close', (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      ),
    );
  }

  /** Resolves once stderr has matched `pattern` `count` times (rejects if the process ends first). */
  waitFor(pattern: RegExp, count = 1): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ pattern, count, resolve });
      this.check();
      void this.done.then(() =>
        reject(new Error(`process ended before ${pattern} appeared ${count} time(s):\n${this.stderr}`)),
      );
    });
  }

  private check(): void {
    for (const waiter of [...this.#waiters]) {
      const matches = this.stderr.match(new RegExp(waiter.pattern.source, 'g'))?.length ?? 0;
      if (matches >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}
