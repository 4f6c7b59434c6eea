import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { isTopsteelException } from '../../../common/exceptions/topsteel.exception';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { TableFingerprint } from '../backup/backup-manifest';
import { compareFingerprints } from '../backup/fingerprint-comparison';
import { tableChecksum } from '../catalogue/catalogue';
import { cancelOnAbort, lockTimeoutSql } from './cancel-on-abort';
import { analyzeRules, CleanAnalysis } from './clean-analysis';
import { readOnlyPlanning } from './read-only-planning';
import { CleanArchiveManifest, CleanArchiveWriter, plannedRows } from './clean-archive';
import { checkDeletion, readCounters } from './clean-verification';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { CleanRule, CleanTarget, describeRule, resolveSelections } from './clean-rules';
import { buildCascadePlan, CascadePlan, childrenFirst } from './cascade-planner';
import { cascadeSql } from './cascade-sql';
import { ForeignKeyGraph, readForeignKeyGraph } from './foreign-key-graph';
import { currentTransaction, outcomeAfterFailedCommit } from './transaction-record';

/** The db:backup whose manifest must still describe every table the clean changes. */
export type CoveringBackup = { name: string; path: string; tables: Record<string, TableFingerprint> };

export type ExecutionContext = {
  connections: PostgresConnectionFactory;
  location: DatabaseLocation;
  target: CleanTarget;
  rules: CleanRule[];
  settings: { cleanTestEmailDomains: string[] };
  archiveRoot: string;
  backup: CoveringBackup | null;
  lockTimeoutMs: number;
  run: RunContext;
  lock: HeldLock;
};

export type ArchiveInfo = { name: string; path: string; manifest: CleanArchiveManifest };
export type ExecutionResult = { analysis: CleanAnalysis; archive: ArchiveInfo | null };

const tablesOf = (plan: CascadePlan): string[] =>
  [
    ...new Set([
      ...plan.deleted.map((entry) => entry.table.key),
      ...plan.modified.map((entry) => entry.table.key),
      ...plan.blocking.map((entry) => entry.table.key),
    ]),
  ].sort();

/**
 * The delete, in one REPEATABLE READ transaction on one connection:
 *  1. every table the plan touches is locked IN EXCLUSIVE MODE *before* the snapshot is taken, so
 *     readers go on but no one can add, change or remove a row clean is about to archive;
 *  2. the plan's rows are materialised (ctids, stable while the locks are held), counted, and
 *     checked against the covering backup;
 *  3. they are archived and the archive completed (renamed) before anything is deleted;
 *  4. the rule rows are deleted, PostgreSQL cascading the rest, and the per-transaction counters
 *     must show exactly the archived rows deleted and changed, else ROLLBACK;
 *  5. COMMIT. Any failure or signal before it rolls back and removes the archive.
 */
export async function executeClean(context: ExecutionContext): Promise<ExecutionResult> {
  const { connections, location, run } = context;
  const client = await connections.connect(location, { applicationName: 'topsteel-clean' });
  const stopCancelling = await cancelOnAbort(connections, location, client, run.shutdown.signal);
  try {
    await client.query(DETERMINISTIC_SESSION_SETTINGS);
    const counters = await client.query<{ on: string }>(`SELECT current_setting('track_counts') AS on`);
    if (counters.rows[0].on !== 'on')
      throw new CleanException(CleanExceptionCode.CountersOff, 'track_counts is off on this server');
    const selections = context.rules.flatMap((rule) => resolveSelections(rule, context.settings));
    // The catalogue is read once outside the transaction to know what to lock before the snapshot.
    const locked = tablesOf(buildCascadePlan(await readForeignKeyGraph(client), selections));
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    try {
      return await inTransaction(client, context, locked);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    stopCancelling();
    await client.end().catch(() => undefined);
  }
}

async function inTransaction(
  client: Client,
  context: ExecutionContext,
  locked: string[],
): Promise<ExecutionResult> {
  const { run } = context;
  await client.query(lockTimeoutSql(context.lockTimeoutMs));
  await run.step('lock tables', () => lockTables(client, locked, context.lockTimeoutMs));
  const graph = await readForeignKeyGraph(client);
  const analysis = await run.step('plan', () =>
    analyzeRules(client, graph, context.rules, context.settings, (plan) => materialize(client, plan)),
  );
  const unlocked = tablesOf(analysis.plan).filter((key) => !locked.includes(key));
  if (unlocked.length > 0)
    throw new CleanException(
      CleanExceptionCode.SchemaChanged,
      `the plan now also reaches ${unlocked.join(', ')}, which changed while clean was starting`,
    );
  refuse(analysis);
  if (analysis.totals.deletedRows === 0) {
    await client.query('ROLLBACK');
    return { analysis, archive: null };
  }
  if (context.backup) {
    const backup = context.backup;
    await run.step('check the backup covers the tables', () =>
      checkBackupCovers(client, graph, analysis, backup),
    );
  }

  context.lock.assertHeld();
  const writer = CleanArchiveWriter.create(context.archiveRoot, new Date());
  let manifest: CleanArchiveManifest;
  try {
    manifest = await run.step('archive', () =>
      failingAs(CleanExceptionCode.ArchiveFailed, 'archiving', () =>
        writeArchive(client, writer, analysis, context),
      ),
    );
    await run.step('delete and verify', () =>
      failingAs(CleanExceptionCode.DeleteFailed, 'deleting', () =>
        deleteRuleRows(client, graph, analysis, manifest),
      ),
    );
    context.lock.assertHeld();
    run.shutdown.throwIfRequested();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    writer.discard();
    throw error;
  }
  await commit(client, writer, manifest);
  return { analysis, archive: { name: writer.name, path: writer.path, manifest } };
}

/** Every table the plan touches, IN EXCLUSIVE MODE: readers go on, no one changes a row clean archives. */
async function lockTables(client: Client, locked: string[], lockTimeoutMs: number): Promise<void> {
  try {
    if (locked.length > 0)
      await client.query(
        `LOCK TABLE ${locked.map((key) => quoteQualified(...splitKey(key))).join(', ')} IN EXCLUSIVE MODE`,
      );
  } catch (error) {
    if ((error as { code?: string }).code === '55P03')
      throw new CleanException(
        CleanExceptionCode.TablesBusy,
        `could not lock ${locked.join(', ')} within ${Math.round(lockTimeoutMs / 1000)} s`,
      );
    throw error;
  }
}

/** COMMIT; a failed one removes the archive only when PostgreSQL says the transaction was rolled back. */
async function commit(
  client: Client,
  writer: CleanArchiveWriter,
  manifest: CleanArchiveManifest,
): Promise<void> {
  try {
    await client.query('COMMIT');
  } catch (error) {
    // Refused on a live connection (a deferred constraint, a trigger): rolled back, nothing deleted.
    if (
      manifest.transaction &&
      (await outcomeAfterFailedCommit(client, manifest.transaction)) === 'aborted'
    ) {
      writer.discard();
      throw new CleanException(
        CleanExceptionCode.DeleteFailed,
        `COMMIT was refused and rolled back: ${error instanceof Error ? error.message : String(error)}`,
        {},
        { cause: error },
      );
    }
    // The server may have committed before the connection broke: the archive is the only copy, keep it.
    throw new CleanException(
      CleanExceptionCode.OutcomeUnknown,
      `COMMIT failed (${error instanceof Error ? error.message : String(error)}); archive kept at ${writer.path}`,
      { archive: writer.path },
      { cause: error },
    );
  }
}

function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return [key.slice(0, dot), key.slice(dot + 1)];
}

/**
 * The plan's rows, stored once: everything after reads these (tableoid, ctid), never the predicates
 * again. The predicates run read-only; the temporary table is created before, indexed after.
 */
async function materialize(client: Client, plan: CascadePlan): Promise<string> {
  await client.query(
    `CREATE TEMP TABLE clean_plan (kind text NOT NULL, idx integer NOT NULL, row_tableoid oid NOT NULL, row_ctid tid NOT NULL, is_root ` +
      `boolean NOT NULL, sample_key text) ON COMMIT DROP`,
  );
  await readOnlyPlanning(client, () =>
    client.query(
      `INSERT INTO pg_temp.clean_plan (kind, idx, row_tableoid, row_ctid, is_root, sample_key) ${cascadeSql(plan)}`,
      plan.parameters,
    ),
  );
  await client.query('CREATE INDEX ON pg_temp.clean_plan (kind, idx, is_root)');
  await client.query('ANALYZE pg_temp.clean_plan');
  return 'SELECT kind, idx, row_tableoid, row_ctid, is_root, sample_key FROM pg_temp.clean_plan';
}

/** Throws when the plan cannot be carried out safely (the reasons the dry run lists). */
export function refuse(analysis: Pick<CleanAnalysis, 'totals' | 'refusals'>): void {
  if (analysis.totals.blocked.length > 0)
    throw new CleanException(CleanExceptionCode.Blocked, analysis.refusals.join('; '), {
      blocked: analysis.totals.blocked,
    });
  if (analysis.refusals.length > 0)
    throw new CleanException(CleanExceptionCode.UnsupportedReference, analysis.refusals.join('; '));
}

/** Every table clean changes must still hold exactly what the backup's manifest recorded. */
async function checkBackupCovers(
  client: Client,
  graph: ForeignKeyGraph,
  analysis: CleanAnalysis,
  backup: CoveringBackup,
): Promise<void> {
  const touched = [...analysis.totals.deleted, ...analysis.totals.modified].map((entry) => entry.table);
  const expected: Record<string, TableFingerprint> = {};
  const current: Record<string, TableFingerprint> = {};
  for (const key of [...new Set(touched)]) {
    const table = graph.tables.get(key);
    if (!table) continue;
    current[key] = await tableChecksum(client, table, table.columns);
    if (backup.tables[key]) expected[key] = backup.tables[key];
  }
  const differing = compareFingerprints(expected, current).map((difference) => difference.table);
  if (differing.length > 0)
    throw new CleanException(
      CleanExceptionCode.BackupStale,
      `the monolith changed after backup ${backup.name} was checked (${differing.join(', ')})`,
      { backup: backup.path, tables: differing },
    );
}

async function writeArchive(
  client: Client,
  writer: CleanArchiveWriter,
  analysis: CleanAnalysis,
  context: ExecutionContext,
): Promise<CleanArchiveManifest> {
  const { plan, totals } = analysis;
  const signal = context.run.shutdown.signal;
  const task = context.run.progress.task('archive', totals.deleted.length + totals.modified.length, 'tables');
  let done = 0;
  for (const entry of plan.deleted) {
    if (!totals.deleted.some((count) => count.table === entry.table.key)) continue;
    context.run.shutdown.throwIfRequested();
    await writer.writeTable(
      client,
      { table: entry.table, action: 'deleted', selection: plannedRows(entry.table, 'd', entry.index) },
      signal,
    );
    task.update(++done);
  }
  for (const entry of plan.modified) {
    if (!totals.modified.some((count) => count.table === entry.table.key)) continue;
    context.run.shutdown.throwIfRequested();
    await writer.writeTable(
      client,
      {
        table: entry.table,
        action: 'modified',
        selection: plannedRows(entry.table, 'm', entry.index),
        setColumns: entry.setColumns,
      },
      signal,
    );
    task.update(++done);
  }
  task.finish(`${done} tables, ${totals.deletedRows + totals.modifiedRows} rows`);
  const transaction = await currentTransaction(client);
  return writer.complete({
    formatVersion: 1,
    tool: 'topsteel-migration',
    kind: 'clean',
    createdAt: new Date().toISOString(),
    runId: context.run.runId,
    target: context.target,
    database: context.location.database,
    rules: context.rules.map((rule) => ({
      name: rule.name,
      description: rule.description,
      selections: describeRule(rule, context.settings),
    })),
    backup: context.backup ? { name: context.backup.name, path: context.backup.path } : null,
    transaction,
  });
}

/** Deletes the rule rows (children first) and lets ON DELETE CASCADE/SET NULL do the rest, then verifies. */
async function deleteRuleRows(
  client: Client,
  graph: ForeignKeyGraph,
  analysis: CleanAnalysis,
  manifest: CleanArchiveManifest,
): Promise<void> {
  const before = await readCounters(client);
  for (const entry of childrenFirst(analysis.plan, graph)) {
    const count = analysis.totals.deleted.find((candidate) => candidate.table === entry.table.key);
    if (!count || count.ruleRows === 0) continue;
    await client.query(
      `DELETE FROM ${quoteQualified(entry.table.schema, entry.table.name)} WHERE (tableoid, ctid) IN (SELECT p.row_tableoid, p.row_ctid FROM ` +
        `pg_temp.clean_plan AS p WHERE p.kind = 'd' AND p.idx = $1 AND p.is_root)`,
      [entry.index],
    );
  }
  await checkDeletion(client, graph, analysis, manifest, before);
}

/**
 * Failures of the archive or the delete, named for the operator: the file-system and server errors
 * (disk full, a trigger raising, a NOT NULL column under ON DELETE SET NULL...) keep their message.
 */
async function failingAs<T>(code: CleanExceptionCode, doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isTopsteelException(error)) throw error;
    const reason = (error as { code?: unknown }).code;
    throw new CleanException(
      code,
      `${doing} failed${typeof reason === 'string' ? ` (${reason})` : ''}: ${error instanceof Error ? error.message : String(error)}`,
      {},
      { cause: error },
    );
  }
}
