import { Client } from 'pg';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { QualifiedTable } from '../catalogue/catalogue';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { xid32Sql, xidDistanceSql } from './xid-window';

/**
 * How far back a horizon may lie for the proof below: row headers hold 32-bit transaction ids,
 * which PostgreSQL compares within 2^31 of the current one. A quarter of that leaves a wide margin;
 * an older horizon proves nothing and the caller reads every row instead.
 */
const MAX_HORIZON_DISTANCE = 2 ** 29;

const XID8 = /^[0-9]{1,20}$/;

/**
 * The horizon of the snapshot the session's transaction reads in: the oldest transaction it did
 * not see as finished (pg_snapshot_xmin, a 64-bit xid8, as text). Every transaction older than it
 * had committed or aborted when the snapshot was taken.
 */
export async function snapshotHorizon(client: Client): Promise<string> {
  const result = await client.query<{ horizon: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon',
  );
  return result.rows[0].horizon;
}

/** A table whose row count, in the snapshot a horizon came from, is known. */
export type CountedTable = QualifiedTable & { rows: number };

/**
 * Which tables provably hold, in the session's snapshot, exactly the rows they held in an older
 * snapshot H whose horizon and row counts are given. The proof, per table, is one scan without
 * any text conversion (about a seventh of a checksum's cost):
 * - no visible row was written by a transaction at or after H's horizon (`age(xmin)` no greater
 *   than the horizon's age). A visible row was then written by a transaction that had finished
 *   before H was taken, so H saw it too, unless its deletion had committed before H (but then this
 *   later snapshot could not see it either): what this snapshot sees is a subset of what H saw. An
 *   INSERT, an UPDATE (a new row version), COPY or a table rewrite all write rows with their own
 *   transaction id; freezing keeps the raw xmin (PostgreSQL 9.4+), which is what `xmin` shows;
 * - and the count is H's: a subset of the same size is the same set, so a DELETE shows too.
 * A row written after the horizon by a transaction H saw as committed only makes the proof fail:
 * the caller then reads the table in full. The horizon must lie within MAX_HORIZON_DISTANCE of
 * the present, else nothing is proven.
 */
export async function provenUnchanged(
  sessions: Client[],
  tables: CountedTable[],
  horizon: string,
): Promise<Set<string>> {
  const proven = new Set<string>();
  if (sessions.length === 0 || !XID8.test(horizon)) return proven;
  if (!(await withinReach(sessions[0], horizon))) return proven;
  const free = [...sessions];
  const results = await mapWithConcurrency(tables, sessions.length, async (table) => {
    const session = free.pop() as Client;
    try {
      const result = await session.query<{ rows: string; newer: string }>(
        `SELECT count(*)::bigint AS rows,
                count(*) FILTER (WHERE age(t.xmin) <= age(${xid32Sql('$1')}))::bigint AS newer
         FROM ${quoteQualified(table.schema, table.name)} AS t`,
        [horizon],
      );
      const { rows, newer } = result.rows[0];
      return Number(rows) === table.rows && Number(newer) === 0;
    } finally {
      free.push(session);
    }
  });
  results.forEach((result, index) => {
    if (result.status === 'rejected') throw result.reason;
    if (result.value) proven.add(`${tables[index].schema}.${tables[index].name}`);
  });
  return proven;
}

/** The horizon is not in the future of this snapshot and not too far in its past. */
async function withinReach(session: Client, horizon: string): Promise<boolean> {
  const result = await session.query<{ distance: string }>(
    `SELECT ${xidDistanceSql('$1')}::text AS distance`,
    [horizon],
  );
  const distance = Number(result.rows[0].distance);
  return distance >= 0 && distance < MAX_HORIZON_DISTANCE;
}
