import { RunContext } from '../../../common/run/run-context';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { HeldLock } from '../../../modules/database/migration-lock.service';

export type SplitOptions = {
  excludeTables?: string[];
  /** Copy workers, already fitted to the connection budget. */
  jobs: number;
  /** Dump target tables changed since the tool loaded them into BACKUP_DIR, then recopy them. */
  discardTargetChanges?: boolean;
  /**
   * Start the verification as soon as the last table is in, beside the foreign keys' validation,
   * when the connections free allow the sessions of both (connection-budget.service.ts).
   */
  verifyBesideKeys?: boolean;
};

/** What every step of one split run shares. */
export type SplitRun = {
  options: SplitOptions;
  run: RunContext;
  lock: HeldLock;
  monolith: DatabaseLocation;
  resumed: boolean;
  /** Where --discard-target-changes dumps the tables it overwrites. */
  backupDir: string;
};

/** Milliseconds since `time()` was called, read when the step ends. */
export function timer(): () => number {
  const at = Date.now();
  return () => Date.now() - at;
}

/**
 * Work that starts when a later point is reached (`start`, safe to call again), or at the latest
 * when its result is asked for; timed from its start, and never left running unobserved: an error
 * path waits for it (`settled`) before going on.
 */
export class DeferredWork {
  #running?: Promise<number>;

  constructor(private readonly work: () => Promise<unknown>) {}

  readonly start = (): void => {
    if (this.#running) return;
    const elapsed = timer();
    this.#running = this.work().then(elapsed);
    // Observed by finished() or settled(); this only keeps an early failure from going unhandled.
    this.#running.catch(() => undefined);
  };

  /** Milliseconds it took, once done (started now if nothing started it); rejects as it did. */
  finished(): Promise<number> {
    this.start();
    return this.#running as Promise<number>;
  }

  /** Done, whatever the outcome, if it was ever started. */
  async settled(): Promise<void> {
    await this.#running?.catch(() => undefined);
  }
}

/** A promise settled from outside, once: what work started early waits on. */
export function latch(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // Observed by whoever waits on it; this only keeps a rejection nobody waited for from going unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
