import { ProgressTask, RunProgress } from '../../../common/run/run-context';

/** One progress line counting tables checksummed, so a long verification never looks like a hang. */
export type TableCounter = { tick(): void; finish(): void; fail(error: unknown): void };

export function countTables(progress: RunProgress | undefined, label: string, total: number): TableCounter {
  const task: ProgressTask | undefined = progress?.task(label, total, 'tables');
  let done = 0;
  return {
    tick: () => task?.update((done += 1)),
    finish: () => task?.finish(`${done} tables checksummed`),
    fail: (error) => task?.fail(error instanceof Error ? error.message : String(error)),
  };
}

/** Runs `work` with the counter, closing its line whichever way the work ends. */
export async function withCounter(counter: TableCounter, work: () => Promise<void>): Promise<void> {
  try {
    await work();
    counter.finish();
  } catch (error) {
    counter.fail(error);
    throw error;
  }
}
