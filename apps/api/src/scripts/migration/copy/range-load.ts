import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { SetAsideStructure } from '../../../modules/database/journal/journal.types';
import { CopyTask } from '../plan/plan-resolver';
import { relayCopy } from './copy-relay';
import {
  IndexBuildSettings,
  loadSettingsSql,
  loadStatements,
  loadTransactionId,
  rebuildStructures,
  structuresToRebuild,
} from './table-copier';

/** Heap blocks [from, to) of the source; null: from the first block, or to the last one (even one added since). */
export type BlockRange = { from: number | null; to: number | null };

/** Ranges per worker: a little more than one, so a worker that finishes early takes a share of the rest. */
const RANGES_PER_WORKER = 2;

/**
 * The source's heap split into `count` ranges of about the same number of blocks. The last range
 * has no upper bound: every row the snapshot sees is in some range, exactly once, whatever the
 * relation's size when it is read (a TID range scan reads only its blocks: PostgreSQL 14+).
 */
export function blockRanges(pages: number, workers: number): BlockRange[] {
  const count = Math.max(1, Math.min(pages, workers * RANGES_PER_WORKER));
  const size = Math.ceil(pages / count);
  const bounds = Array.from({ length: count - 1 }, (_, index) => (index + 1) * size).filter(
    (bound) => bound < pages,
  );
  return [null, ...bounds].map((from, index) => ({ from, to: bounds[index] ?? null }));
}

export function rangeCondition(range: BlockRange): string | undefined {
  const tid = (block: number) => `'(${Math.trunc(block)},0)'::tid`;
  const conditions = [
    ...(range.from === null ? [] : [`t.ctid >= ${tid(range.from)}`]),
    ...(range.to === null ? [] : [`t.ctid < ${tid(range.to)}`]),
  ];
  return conditions.length > 0 ? conditions.join(' AND ') : undefined;
}

/** Heap blocks of a source table, read by a session in the snapshot. */
export async function heapBlocks(source: Client, table: string): Promise<number> {
  const result = await source.query<{ blocks: string }>(
    `SELECT pg_relation_size(to_regclass($1)) / current_setting('block_size')::bigint AS blocks`,
    [quoteQualified('public', table)],
  );
  return Number(result.rows[0].blocks);
}

/**
 * Before the ranges: the table's indexes and keys (with any an interrupted range load already set
 * aside) are handed to `record` (the journal) first, then dropped, and the table truncated, in one
 * committed transaction: the ranges then load into a bare table from several sessions at once.
 */
export async function setAsideForRanges(
  target: Client,
  task: CopyTask,
  setAside: SetAsideStructure[],
  record: (structures: SetAsideStructure[]) => Promise<void>,
): Promise<SetAsideStructure[]> {
  const { present, all } = await structuresToRebuild(target, task.target, setAside);
  await record(all);
  await target.query('BEGIN');
  try {
    for (const structure of present) await target.query(structure.drop);
    await target.query(`TRUNCATE ${quoteQualified('public', task.target)}`);
    await target.query('COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return all;
}

/**
 * One block range of the source streamed into the target table, committed on its own: its rows,
 * and the id of the transaction that wrote them (xid8, as text), for the journal.
 */
export async function copyRange(
  source: Client,
  target: Client,
  task: CopyTask,
  range: { blocks: BlockRange; societeId: string; onRows?: (rows: number) => void },
): Promise<{ rows: number; xid: string }> {
  await target.query('BEGIN');
  try {
    await target.query('SET LOCAL synchronous_commit = off');
    const statements = loadStatements(task, range.societeId, { where: rangeCondition(range.blocks) });
    const { rows } = await relayCopy(source, target, statements, range.onRows);
    const xid = await loadTransactionId(target);
    await target.query('COMMIT');
    return { rows, xid };
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Once every range is in: the indexes and keys rebuilt and the table's rows counted, in one
 * transaction (the caller compares the count with the rows the ranges streamed).
 */
export async function finishRanges(
  target: Client,
  task: CopyTask,
  structures: SetAsideStructure[],
  settings: IndexBuildSettings,
): Promise<{ rows: number; indexMs: number; countMs: number }> {
  await target.query('BEGIN');
  try {
    await target.query(loadSettingsSql(settings));
    const indexMs = await rebuildStructures(target, structures);
    const countStarted = Date.now();
    const counted = await target.query<{ rows: string }>(
      `SELECT count(*) AS rows FROM ${quoteQualified('public', task.target)}`,
    );
    const countMs = Date.now() - countStarted;
    await target.query('COMMIT');
    return { rows: Number(counted.rows[0].rows), indexMs, countMs };
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
