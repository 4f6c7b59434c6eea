import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { CopyTask } from '../plan/plan-resolver';
import { SetAsideStructure } from '../../../modules/database/journal/journal.types';
import { relayCopy } from './copy-relay';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How a load transaction builds its indexes. */
export type IndexBuildSettings = {
  /** Per-session memory for index builds; several tables build side by side. */
  maintenanceWorkMem: string;
  /**
   * max_parallel_maintenance_workers for the builds; unset keeps the server's. With every core
   * already busy with another copy worker, parallel builds only added processes: on two cores
   * they cost 0.5 CPU-s more per split of the bench's monolith and made it no faster.
   */
  indexWorkers?: number;
};

export type CopyContext = IndexBuildSettings & {
  /** The société whose tenant database receives tenant rows (validated uuid). */
  societeId: string;
  onRows?: (rows: number) => void;
  /** Indexes and keys an interrupted range load of this table set aside (from the journal). */
  setAside?: SetAsideStructure[];
  /**
   * Source tables up to this size (bytes, as the plan measured them) load into their indexes as
   * they stand, emptied by DELETE: see copySmallTable. Unset: every table takes the full path.
   */
  smallTableBytes?: number;
};

/**
 * What one committed load wrote: its rows, and the id (xid8, as text) of the transaction that wrote
 * them, which the journal keeps to notice later writes (split/loaded-xids.ts); with where its time
 * went (the stream, the index and key rebuilds).
 */
export type LoadedTable = {
  rows: number;
  xid: string;
  loadMs: number;
  indexMs: number;
};

/**
 * The projection the source streams: the legacy columns (cast only when the target type is a
 * wider one), then the added columns computed in SQL. Nothing is computed in JavaScript. The
 * verification hashes the same expressions, so the target's stored rows must equal them exactly.
 */
export function projectionExpressions(task: CopyTask, societeId: string): string[] {
  if (!UUID.test(societeId)) throw new Error(`société id "${societeId}" is not a uuid`);
  const columns = task.columns.map((column) =>
    column.sourceType === column.targetType
      ? `t.${quoteIdentifier(column.name)}`
      : `t.${quoteIdentifier(column.name)}::${column.targetType}`,
  );
  const added = task.addedColumns.map((column) =>
    column.fill.kind === 'societe-id' ? `'${societeId}'::uuid` : `(${column.fill.sql})::${column.type}`,
  );
  return [...columns, ...added];
}

/** `where`: a block range of the source (a condition on `t.ctid` only), for a table copied in ranges. */
function sourceProjection(task: CopyTask, societeId: string, where?: string): string {
  const names = targetColumnNames(task).map(quoteIdentifier);
  const select = projectionExpressions(task, societeId).map(
    (expression, index) => `${expression} AS ${names[index]}`,
  );
  const from = `SELECT ${select.join(', ')} FROM ${quoteQualified('public', task.source)} AS t`;
  return where ? `${from} WHERE ${where}` : from;
}

/** The target columns a copy writes, in order: the legacy ones, then the added ones. */
export function targetColumnNames(task: CopyTask): string[] {
  return [...task.columns.map((column) => column.name), ...task.addedColumns.map((column) => column.name)];
}

function targetColumnList(task: CopyTask): string {
  return targetColumnNames(task).map(quoteIdentifier).join(', ');
}

/** Primary keys, unique/exclusion constraints and plain indexes of a table, as statements to drop and rebuild. */
export async function secondaryStructures(target: Client, table: string): Promise<SetAsideStructure[]> {
  const qualified = quoteQualified('public', table);
  const constraints = await target.query<{ name: string; definition: string }>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE conrelid = to_regclass($1) AND contype IN ('p', 'u', 'x') ORDER BY contype = 'p' DESC, conname`,
    [qualified],
  );
  const indexes = await target.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i
     WHERE i.indrelid = to_regclass($1) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
     ORDER BY 1`,
    [qualified],
  );
  return [
    ...constraints.rows.map((row) => ({
      name: row.name,
      drop: `ALTER TABLE ${qualified} DROP CONSTRAINT ${quoteIdentifier(row.name)}`,
      create: `ALTER TABLE ${qualified} ADD CONSTRAINT ${quoteIdentifier(row.name)} ${row.definition}`,
    })),
    // regclass::text is already quoted where needed and schema-qualified when off the search_path.
    ...indexes.rows.map((row) => ({
      name: row.name,
      drop: `DROP INDEX ${row.name}`,
      create: row.definition,
    })),
  ];
}

/** What a structure read back from the journal must look like before it is sent to the server. */
const STRUCTURE_DEFINITION = /^(CREATE (UNIQUE )?INDEX |ALTER TABLE [^;]* ADD CONSTRAINT )[^;]*$/;

/**
 * The structures a load rebuilds: those the table has now (dropped before the load), and those an
 * interrupted range load set aside and recorded in the journal (already dropped; only rebuilt).
 */
export async function structuresToRebuild(
  target: Client,
  table: string,
  setAside: SetAsideStructure[] = [],
): Promise<{ present: SetAsideStructure[]; all: SetAsideStructure[] }> {
  const present = await secondaryStructures(target, table);
  const names = new Set(present.map((structure) => structure.name));
  const missing = setAside.filter((structure) => !names.has(structure.name));
  for (const structure of missing) {
    // The journal is only as trustworthy as AUTH: a statement that is not an index or key is refused.
    if (!STRUCTURE_DEFINITION.test(structure.create))
      throw new Error(
        `the journal holds an unexpected definition for ${table}.${structure.name}; refusing to run it`,
      );
  }
  return { present, all: [...present, ...missing] };
}

/**
 * The binary COPY pair that loads a table: the source projection out (of the block range `where`
 * names, for a table copied in ranges), the target's columns in (FREEZE: after a TRUNCATE in the
 * same transaction).
 */
export function loadStatements(
  task: CopyTask,
  societeId: string,
  options: { freeze?: boolean; where?: string } = {},
): { copyOut: string; copyIn: string } {
  const target = quoteQualified('public', task.target);
  return {
    copyOut: `COPY (${sourceProjection(task, societeId, options.where)}) TO STDOUT (FORMAT binary)`,
    copyIn: `COPY ${target} (${targetColumnList(task)}) FROM STDIN (FORMAT binary${options.freeze ? ', FREEZE' : ''})`,
  };
}

/** The load transaction's settings: its durability is the commit of the whole split, not of each table. */
export function loadSettingsSql(settings: IndexBuildSettings): string {
  const memory = settings.maintenanceWorkMem.replace(/[^0-9A-Za-z]/g, '');
  const workers =
    settings.indexWorkers === undefined
      ? ''
      : `; SET LOCAL max_parallel_maintenance_workers = ${Math.max(0, Math.trunc(settings.indexWorkers))}`;
  return `SET LOCAL synchronous_commit = off; SET LOCAL maintenance_work_mem = '${memory}'${workers}`;
}

/** In the load's transaction, once the rows are in: the set-aside indexes and keys rebuilt; milliseconds spent. */
export async function rebuildStructures(target: Client, structures: SetAsideStructure[]): Promise<number> {
  const started = Date.now();
  for (const structure of structures) await target.query(structure.create);
  return Date.now() - started;
}

/**
 * The id of the load's own transaction (xid8, as text), read after its COPY: every row the COPY
 * wrote carries it as xmin, which is how a rerun tells the tool's rows from anyone else's.
 */
export async function loadTransactionId(target: Client): Promise<string> {
  const result = await target.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
  return result.rows[0].xid;
}

/**
 * Copies one table in one target transaction: drop its indexes and keys, truncate, stream the
 * source projection through binary COPY (FREEZE: the rows are written frozen, so the verification
 * scan right after does not have to set hint bits), rebuild the indexes while the other workers
 * are still copying, read the transaction's id (the journal keeps it to notice later writes), commit.
 * Interrupted or failed, the transaction rolls back and the table is exactly as it was.
 */
export async function copyTable(
  source: Client,
  target: Client,
  task: CopyTask,
  context: CopyContext,
): Promise<LoadedTable> {
  if (
    context.smallTableBytes !== undefined &&
    task.sizeBytes <= context.smallTableBytes &&
    (context.setAside ?? []).length === 0
  )
    return copySmallTable(source, target, task, context);
  const qualified = quoteQualified('public', task.target);
  await target.query('BEGIN');
  try {
    await target.query(loadSettingsSql(context));
    const { present, all: structures } = await structuresToRebuild(target, task.target, context.setAside);
    for (const structure of present) await target.query(structure.drop);
    await target.query(`TRUNCATE ${qualified}`);
    const loadStarted = Date.now();
    const { rows } = await relayCopy(
      source,
      target,
      loadStatements(task, context.societeId, { freeze: true }),
      context.onRows,
    );
    const loadMs = Date.now() - loadStarted;
    const xid = await loadTransactionId(target);
    const indexMs = await rebuildStructures(target, structures);
    await target.query('COMMIT');
    return { rows, xid, loadMs, indexMs };
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * A small table in one target transaction: emptied by DELETE, loaded through binary COPY into its
 * indexes and keys as they stand, committed with its transaction's id read. Dropping and rebuilding the indexes and
 * TRUNCATE (which COPY FREEZE needs) replace relation files, and a transaction that unlinks files
 * commits with a WAL flush whatever synchronous_commit says: on a tiny monolith that was most of
 * each table's copy. The DELETE's dead rows are invisible to a later scan: only the COPY's rows count.
 */
async function copySmallTable(
  source: Client,
  target: Client,
  task: CopyTask,
  context: CopyContext,
): Promise<LoadedTable> {
  const qualified = quoteQualified('public', task.target);
  await target.query('BEGIN');
  try {
    await target.query(loadSettingsSql(context));
    await target.query(`DELETE FROM ${qualified}`);
    const loadStarted = Date.now();
    const { rows } = await relayCopy(source, target, loadStatements(task, context.societeId), context.onRows);
    const loadMs = Date.now() - loadStarted;
    const xid = await loadTransactionId(target);
    await target.query('COMMIT');
    return { rows, xid, loadMs, indexMs: 0 };
  } catch (error) {
    await target.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
