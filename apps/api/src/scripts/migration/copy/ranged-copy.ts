import { Client } from 'pg';
import { ProgressTask, RunContext } from '../../../common/run/run-context';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { SetAsideStructure } from '../../../modules/database/journal/journal.types';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { CopyTask } from '../plan/plan-resolver';
import { CopiedTable } from './copied-table.types';
import { CopyJob } from './copy-scheduler';
import { blockRanges, copyRange, finishRanges, heapBlocks, setAsideForRanges } from './range-load';
import { IndexBuildSettings, targetColumnNames } from './table-copier';

export type RangedCopyContext<Worker> = IndexBuildSettings & {
  journal: JournalRepository;
  run: RunContext;
  lock: HeldLock;
  societeId: string;
  targetDatabase: string;
  workers: number;
  /** The worker's reader in the snapshot and its writer on the task's database. */
  sessions: (worker: Worker, task: CopyTask) => Promise<{ source: Client; target: Client }>;
  /** Called once, when the table is loaded, indexed, counted and journaled as copied. */
  done: (table: CopiedTable) => void;
};

/** What the jobs of one table loaded in ranges share. */
type RangedLoad = {
  task: CopyTask;
  progress: ProgressTask;
  started: number;
  loadStarted: number;
  /** Rows streamed so far by each range. */
  rows: number[];
  /** The transaction (xid8, as text) that committed each range, once it has. */
  xids: (string | null)[];
  remaining: number;
  structures: SetAsideStructure[];
};

/**
 * A large table copied by several workers (pgcopydb's --split-tables-larger-than): set its indexes
 * aside (in the journal first) and truncate it, then one job per block range of the source, every
 * range read in the same exported snapshot by whichever worker is free and committed on its own;
 * the last range to finish rebuilds the indexes and counts the table's rows. Until then the journal
 * records the table as a range load in progress: a run killed meanwhile leaves part of the rows,
 * and the next run truncates the table and loads it again, whole (never a range twice). SIGINT or
 * SIGTERM lets the table's remaining ranges and finish run, as a whole-table load finishes.
 */
export function rangedTableJob<Worker>(
  task: CopyTask,
  setAside: SetAsideStructure[],
  context: RangedCopyContext<Worker>,
): CopyJob<Worker, CopyTask> {
  const { journal, run } = context;
  const state = {
    sourceTable: task.source,
    targetDatabase: context.targetDatabase,
    targetTable: task.target,
  };
  return {
    key: task,
    run: async (worker) => {
      context.lock.assertHeld();
      const progress = run.progress.task(`${task.database}.${task.target}`, task.estimatedRows);
      const started = Date.now();
      return failing(progress, async () => {
        const { source, target } = await context.sessions(worker, task);
        await journal.setTableState({ ...state, status: 'copying', rows: null, checksum: null }, run.runId);
        const structures = await setAsideForRanges(target, task, setAside, (all) =>
          journal.saveRangeLoad({ ...state, structures: all }),
        );
        const ranges = blockRanges(await heapBlocks(source, task.source), context.workers);
        const load: RangedLoad = {
          task,
          progress,
          started,
          loadStarted: Date.now(),
          rows: ranges.map(() => 0),
          xids: ranges.map(() => null),
          remaining: ranges.length,
          structures,
        };
        run.log('copy table in ranges', { table: `${task.database}.${task.target}`, ranges: ranges.length });
        return ranges.map((blocks, index) => rangeJob(load, blocks, index, context));
      });
    },
  };
}

function rangeJob<Worker>(
  load: RangedLoad,
  blocks: ReturnType<typeof blockRanges>[number],
  index: number,
  context: RangedCopyContext<Worker>,
): CopyJob<Worker, CopyTask> {
  const { task, progress } = load;
  return lockedJob(load, context, async (worker) => {
    const { source, target } = await context.sessions(worker, task);
    const copied = await copyRange(source, target, task, {
      blocks,
      societeId: context.societeId,
      onRows: (count) => {
        load.rows[index] = count;
        progress.update(load.rows.reduce((sum, rows) => sum + rows, 0));
      },
    });
    load.rows[index] = copied.rows;
    load.xids[index] = copied.xid;
    load.remaining--;
    return load.remaining === 0 ? [finishJob(load, context)] : [];
  });
}

/**
 * The last step of a range load: indexes, a count of the rows against those the ranges streamed,
 * the journal's "copied" with the transaction of every range, in that order.
 */
function finishJob<Worker>(load: RangedLoad, context: RangedCopyContext<Worker>): CopyJob<Worker, CopyTask> {
  const { task, progress } = load;
  const { journal, run } = context;
  return lockedJob(load, context, async (worker) => {
    const loadMs = Date.now() - load.loadStarted;
    const { target } = await context.sessions(worker, task);
    const finished = await finishRanges(target, task, load.structures, context);
    const rows = load.rows.reduce((sum, count) => sum + count, 0);
    const xids = load.xids.filter((xid): xid is string => xid !== null);
    if (xids.length !== load.xids.length)
      throw new Error(`a range of ${task.target} finished without its transaction id`);
    if (rows !== finished.rows)
      throw new Error(
        `${rows} rows streamed in ranges but ${finished.rows} in ${task.target} after the load`,
      );
    await journal.setTableState(
      {
        sourceTable: task.source,
        targetDatabase: context.targetDatabase,
        targetTable: task.target,
        status: 'copied',
        rows,
        checksum: null,
        checksumColumns: targetColumnNames(task),
        loadedXids: xids,
      },
      run.runId,
    );
    await journal.forgetRangeLoad(context.targetDatabase, task.target);
    progress.finish(`${rows} rows`);
    const durationMs = Date.now() - load.started;
    run.log('copy table', { table: `${task.database}.${task.target}`, rows, durationMs });
    context.done({
      source: task.source,
      target: task.target,
      database: task.database,
      rows,
      durationMs,
      loadMs,
      indexMs: finished.indexMs,
      checksumMs: finished.countMs,
    });
  });
}

/** A job of this load that runs only under the migration lock and marks the table failed on error. */
function lockedJob<Worker, Result>(
  load: RangedLoad,
  context: RangedCopyContext<Worker>,
  body: (worker: Worker) => Promise<Result>,
): { key: CopyTask; continues: true; run: (worker: Worker) => Promise<Result> } {
  return {
    key: load.task,
    continues: true,
    run: (worker) =>
      failing(load.progress, () => {
        context.lock.assertHeld();
        return body(worker);
      }),
  };
}

async function failing<T>(progress: ProgressTask, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    progress.fail(error instanceof Error ? error.message : String(error));
    throw error;
  }
}
