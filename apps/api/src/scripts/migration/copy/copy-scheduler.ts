/**
 * One unit of copy work a worker takes: a whole table, or a step of a table loaded in block ranges
 * (set aside, one range, finish). A job may hand back follow-up jobs; they go to the front of the
 * queue, so a table being loaded in ranges is finished before the next table starts.
 */
export type CopyJob<Worker, Key> = {
  /** What a failure is reported against. */
  key: Key;
  /** Part of a table already started (a range, its finish): still done after a shutdown request. */
  continues?: boolean;
  run: (worker: Worker) => Promise<CopyJob<Worker, Key>[] | void>;
};

export type SchedulerHooks<Worker> = {
  /** Checked before every job: true stops taking new tables (shutdown requested); tables begun are finished. */
  stopped: () => boolean;
  /** After a failed job, before the worker takes another: drop its sessions. */
  afterFailure: (worker: Worker) => Promise<void>;
};

/**
 * Runs the jobs over the workers, each worker taking the next job as soon as it is free. A worker
 * that finds the queue empty while others still run waits for their follow-ups. The first failure
 * stops every worker after the job in hand; it is returned, not thrown, so that the caller closes
 * its sessions first.
 */
export async function runCopyJobs<Worker, Key>(
  workers: Worker[],
  jobs: CopyJob<Worker, Key>[],
  hooks: SchedulerHooks<Worker>,
): Promise<{ key: Key; error: unknown } | undefined> {
  const queue = [...jobs];
  let running = 0;
  let failure: { key: Key; error: unknown } | undefined;
  let waiting: (() => void)[] = [];
  const wake = () => {
    const sleepers = waiting;
    waiting = [];
    for (const resume of sleepers) resume();
  };
  const work = async (worker: Worker): Promise<void> => {
    while (!failure) {
      const stopped = hooks.stopped();
      const index = stopped ? queue.findIndex((candidate) => candidate.continues) : 0;
      if (stopped && index < 0 && running === 0) return;
      const [job] = index >= 0 ? queue.splice(index, 1) : [];
      if (!job) {
        if (running === 0) return;
        await new Promise<void>((resume) => waiting.push(resume));
        continue;
      }
      running++;
      try {
        const next = await job.run(worker);
        if (next) queue.unshift(...next);
      } catch (error) {
        failure ??= { key: job.key, error };
        await hooks.afterFailure(worker);
      } finally {
        running--;
        wake();
      }
    }
  };
  await Promise.all(workers.map(work));
  return failure;
}
