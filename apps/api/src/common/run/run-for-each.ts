import { mapWithConcurrency } from '../concurrency/map-with-concurrency';
import { RunContext } from './run-context';

export type RunnerItem = { name: string };

export type RunnerOutcome<Item extends RunnerItem, Result> =
  | { item: Item; ok: true; value: Result; durationMs: number }
  | { item: Item; ok: false; error: string; durationMs: number };

export type RunnerReport<Item extends RunnerItem, Result> = {
  outcomes: RunnerOutcome<Item, Result>[];
  succeeded: number;
  failed: number;
  skipped: number;
};

/**
 * The one loop over databases and tenants: bounded concurrency (`--jobs`, and never more than the
 * caller's connection cap), an `i/N` line per item, continue past a failing item, stop taking new
 * items on SIGINT/SIGTERM, and a report whose `failed` count the command turns into exit code 1.
 */
export async function runForEach<Item extends RunnerItem, Result>(
  items: Item[],
  options: { concurrency: number; run: RunContext; describe?: (result: Result) => string },
  work: (item: Item) => Promise<Result>,
): Promise<RunnerReport<Item, Result>> {
  let done = 0;
  const width = String(items.length).length;
  const results = await mapWithConcurrency(items, options.concurrency, async (item) => {
    if (options.run.shutdown.requested) return undefined;
    const started = Date.now();
    try {
      const value = await work(item);
      done += 1;
      options.run.info(
        `  [${String(done).padStart(width)}/${items.length}] ${item.name}: ${options.describe ? options.describe(value) : 'ok'}`,
      );
      return { item, ok: true as const, value, durationMs: Date.now() - started };
    } catch (error) {
      done += 1;
      const message = error instanceof Error ? error.message : String(error);
      options.run.info(`  [${String(done).padStart(width)}/${items.length}] ${item.name}: ✖ ${message}`);
      options.run.log('item failed', { item: item.name, error: message }, 'failed');
      return { item, ok: false as const, error: message, durationMs: Date.now() - started };
    }
  });
  const outcomes = results.flatMap((result) =>
    result.status === 'fulfilled' && result.value ? [result.value] : [],
  );
  return {
    outcomes,
    succeeded: outcomes.filter((outcome) => outcome.ok).length,
    failed: outcomes.filter((outcome) => !outcome.ok).length,
    skipped: items.length - outcomes.length,
  };
}
