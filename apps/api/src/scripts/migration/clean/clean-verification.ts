import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { CleanAnalysis } from './clean-analysis';
import { CleanArchiveManifest } from './clean-archive';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { ForeignKeyGraph } from './foreign-key-graph';
import { xid32Sql } from '../snapshot/xid-window';

export type TableCounters = Map<string, { inserted: number; updated: number; deleted: number }>;

/**
 * PostgreSQL's own per-transaction counters (rows inserted, updated, deleted in each table by this
 * transaction, cascades and SET NULL actions included). They also hold a previous transaction's
 * counts until the session flushes them, so only differences between two readings mean anything.
 * PostgreSQL counts rows in the partitions that hold them: they are added up under the
 * partitioned table the plan and the archive name.
 */
export async function readCounters(client: Client): Promise<TableCounters> {
  const result = await client.query<{
    schema: string;
    name: string;
    inserted: string;
    updated: string;
    deleted: string;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, sum(s.n_tup_ins) AS inserted, sum(s.n_tup_upd) AS updated,
            sum(s.n_tup_del) AS deleted
     FROM pg_stat_xact_user_tables AS s
     JOIN pg_class AS c ON c.oid = coalesce(pg_partition_root(s.relid), s.relid)
     JOIN pg_namespace AS n ON n.oid = c.relnamespace
     WHERE s.schemaname NOT LIKE 'pg\\_temp%'
     GROUP BY n.nspname, c.relname`,
  );
  return new Map(
    result.rows.map((row) => [
      `${row.schema}.${row.name}`,
      { inserted: Number(row.inserted), updated: Number(row.updated), deleted: Number(row.deleted) },
    ]),
  );
}

/**
 * Before COMMIT: in every table, the rows this transaction deleted equal the rows archived as
 * deleted (none elsewhere), nothing was inserted, the rows it changed and kept are exactly the
 * archived SET NULL rows, and none of the archived rows is still there. Any difference throws;
 * the caller rolls back.
 */
export async function checkDeletion(
  client: Client,
  graph: ForeignKeyGraph,
  analysis: CleanAnalysis,
  manifest: CleanArchiveManifest,
  before: TableCounters,
): Promise<void> {
  const after = await readCounters(client);
  const archived = (action: 'deleted' | 'modified', key: string): number =>
    manifest.tables.find((table) => table.table === key && table.action === action)?.rows ?? 0;
  const problems: string[] = [];
  const changedTables: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const start = before.get(key) ?? { inserted: 0, updated: 0, deleted: 0 };
    const end = after.get(key) ?? start;
    const deleted = end.deleted - start.deleted;
    if (deleted !== archived('deleted', key))
      problems.push(`${key}: ${deleted} row(s) deleted, ${archived('deleted', key)} archived`);
    if (end.inserted !== start.inserted)
      problems.push(`${key}: ${end.inserted - start.inserted} row(s) inserted`);
    if (end.updated !== start.updated || archived('modified', key) > 0) changedTables.push(key);
  }
  const xid = await client.query<{ xid: string }>(`SELECT ${xid32Sql('txid_current()')}::text AS xid`);
  for (const key of changedTables) {
    const table = graph.tables.get(key);
    if (!table) continue;
    // A row this transaction updated and kept carries its xid as xmin.
    const kept = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${quoteQualified(table.schema, table.name)} WHERE xmin::text = $1`,
      [xid.rows[0].xid],
    );
    const count = Number(kept.rows[0].count);
    if (count !== archived('modified', key))
      problems.push(`${key}: ${count} row(s) changed, ${archived('modified', key)} archived as modified`);
  }
  for (const entry of analysis.plan.deleted) {
    const remaining = await client.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${quoteQualified(entry.table.schema, entry.table.name)}
       WHERE (tableoid, ctid) IN (SELECT p.row_tableoid, p.row_ctid FROM pg_temp.clean_plan AS p WHERE p.kind = 'd' AND p.idx = $1)`,
      [entry.index],
    );
    if (Number(remaining.rows[0].count) > 0)
      problems.push(`${entry.table.key}: ${remaining.rows[0].count} archived row(s) still present`);
  }
  if (problems.length > 0)
    throw new CleanException(
      CleanExceptionCode.VerificationFailed,
      `deleted rows differ from the archive: ${problems.join('; ')}`,
      { problems },
    );
}
