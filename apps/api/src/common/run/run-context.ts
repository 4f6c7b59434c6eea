/** One live progress line: rows (or bytes) done out of a total. */
export type ProgressTask = {
  update(done: number): void;
  finish(message?: string): void;
  fail(message: string): void;
};

/** Where long steps report progress; the CLI draws bars on a terminal and lines elsewhere. */
export type RunProgress = {
  task(label: string, total: number, unit?: string): ProgressTask;
  stop(): void;
};

/** The first SIGINT/SIGTERM, as the work sees it: check between units, or listen on the signal. */
export type RunShutdown = {
  readonly requested: 'SIGINT' | 'SIGTERM' | undefined;
  readonly signal: AbortSignal;
  throwIfRequested(): void;
};

/**
 * What a service needs from whoever runs it: an id for the journal and the log, timed steps,
 * narrative for the operator, progress, and the shutdown signal. Domain services depend on this
 * type only; the CLI implements it (cli/runner), and tests can too, without a CLI.
 */
export type RunContext = {
  readonly runId: string;
  readonly command: string;
  readonly startedAt: Date;
  readonly progress: RunProgress;
  readonly shutdown: RunShutdown;
  info(text: string): void;
  /** Verbose-only narrative (shown with --verbose). */
  detail(text: string): void;
  log(step: string, details?: Record<string, unknown>, outcome?: 'ok' | 'failed' | 'skipped'): void;
  step<T>(name: string, work: () => Promise<T>, options?: { quiet?: boolean }): Promise<T>;
};
