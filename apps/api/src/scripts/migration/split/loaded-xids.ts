import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { columnTypes } from '../catalogue/typed-checksum';
import { XID_SPAN, xid32Sql, xidDistanceSql } from '../snapshot/xid-window';

/** What a target table holds now, as far as the load's proof can tell. */
export type XidProof = {
  /** Rows now; null when the table, or a column the load wrote, is gone. */
  rows: number | null;
  /** Rows now whose version no recorded load transaction wrote. */
  foreignRows: number;
  /** Whether the table is exactly as the tool's load left it. */
  unchanged: boolean;
};

/**
 * Whether a target table is still exactly what the load transactions `xids` (xid8, as text) wrote:
 * it exists with every column the load wrote (`columns`), it holds `rows` rows, and no row has an
 * xmin outside those transactions. A plain scan, where a load checksum hashed every row's text.
 *
 * Why that is a proof. Each visible row version carries as xmin the id of the transaction that
 * created it: an INSERT, a COPY or an UPDATE (even one that writes the same values, even a HOT one)
 * makes a new version stamped with the writer's xid, which is none of the load's, since a
 * transaction id is never given twice within the 2^32 window checked below (ids are unique per
 * cluster, and the load read its own with pg_current_xact_id()). A write that creates no version is
 * a DELETE (or TRUNCATE), and it lowers the count: a delete-one-insert-one pair still leaves a
 * foreign xmin. Freezing does not hide the origin: since PostgreSQL 9.4, COPY FREEZE and VACUUM
 * (FREEZE) mark a tuple frozen in its infomask and keep the raw xmin, which is what the xmin system
 * column returns. A table rewrite that keeps values (CLUSTER, VACUUM FULL) keeps xmins; one that
 * recomputes them (ALTER COLUMN TYPE ... USING) writes new versions with its own xid; a dropped
 * column is checked by name. The 32-bit xmin compared is the xid8 modulo 2^32, which names one
 * transaction only while the cluster has not run 2^32 ids past the oldest load: beyond that (or
 * for an xid this cluster never gave, a journal from elsewhere) the proof is refused (reported as
 * changed), never guessed.
 */
export async function loadedXidsProof(
  client: Client,
  table: string,
  loaded: { rows: number | null; xids: string[]; columns: string[] },
): Promise<XidProof> {
  const qualified = quoteQualified('public', table);
  // The table and every column the load wrote still exist (a dropped column is a change).
  if (!(await columnTypes(client, { schema: 'public', name: table }, loaded.columns)))
    return { rows: null, foreignRows: 0, unchanged: false };
  const result = await client.query<{ rows: string; foreign: string; in_window: boolean }>(
    `WITH loads AS (SELECT x::xid8 AS xid FROM unnest($1::text[]) AS x)
     SELECT count(*) AS rows,
            count(*) FILTER (WHERE t.xmin <> ALL (ARRAY(SELECT ${xid32Sql('xid')} FROM loads))) AS foreign,
            (SELECT coalesce(bool_and(${xidDistanceSql('xid')} BETWEEN 1 AND ${XID_SPAN - 1}), false)
               FROM loads) AS in_window
     FROM ${qualified} AS t`,
    [loaded.xids],
  );
  const row = result.rows[0];
  const rows = Number(row.rows);
  const foreignRows = Number(row.foreign);
  return {
    rows,
    foreignRows,
    unchanged: row.in_window && foreignRows === 0 && loaded.rows !== null && rows === loaded.rows,
  };
}
