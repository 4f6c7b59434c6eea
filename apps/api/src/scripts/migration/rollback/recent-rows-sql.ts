import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { XidPoint } from '../online/reverse-sync-names';

/** A primary key: its columns and their types (format_type), in the key's order. */
export type Key = { columns: string[]; types: string[] };

/** One side of an incremental comparison: the table there, its legacy columns, key and horizon. */
export type TableSide = { table: string; columns: string[]; key: Key; since: XidPoint };

/**
 * The hash of a key, computed for every row: the type's own hash for a uuid or integer key (text
 * output is what makes a whole-row checksum costly), the row's text otherwise.
 */
function keyHash(key: Key): string {
  const [column] = key.columns.map((name) => `t.${quoteIdentifier(name)}`);
  if (key.columns.length === 1 && key.types[0] === 'uuid') return `uuid_hash_extended(${column}, 0)`;
  if (key.columns.length === 1 && ['integer', 'bigint', 'smallint'].includes(key.types[0]))
    return `hashint8extended(${column}::bigint, 0)`;
  return `hashtextextended(ROW(${key.columns.map((name) => `t.${quoteIdentifier(name)}`).join(', ')})::text, 0)`;
}

/** `window`: transactions since the horizon, null when too many for a 32-bit age (then compare in full). */
export type RecentSum = {
  window: string | null;
  rows: string;
  keys: string;
  recent: string;
  recentSum: string;
};

const TWO_32 = '4294967296';

/**
 * One pass over the table: count and key checksum of every row, count and checksum of the rows
 * written since the horizon ($1, a 64-bit transaction id). age(xmin) is the distance from the
 * transaction counter as this transaction first read it (a special xmin, 0 to 2, gives 2^31-1, i.e.
 * old; freezing keeps the raw xmin); the same counter, widened to 64 bits with the snapshot's epoch, gives the window, so
 * that `age(xmin) <= window` holds exactly for the rows whose xmin is at or past the horizon.
 */
export function recentRowsSql({ table, columns, key }: TableSide): string {
  const row = (names: string[]) =>
    `ROW(${names.map((name) => `t.${quoteIdentifier(name)}`).join(', ')})::text`;
  const recent = 'age(t.xmin) <= (SELECT w.window FROM w)';
  return `WITH p AS (
      SELECT txid_snapshot_xmax(txid_current_snapshot()) AS c,
             ((age('3'::xid)::bigint + 3) % ${TWO_32} + ${TWO_32}) % ${TWO_32} AS now_low
    ), w AS (
      SELECT CASE WHEN n - $1::bigint < 2147483647 THEN n - $1::bigint END AS window
      FROM (SELECT c + ((now_low - c % ${TWO_32}) % ${TWO_32} + ${TWO_32}) % ${TWO_32} AS n FROM p) now
    )
    SELECT (SELECT w.window FROM w)::text AS window,
           count(*)::text AS rows,
           coalesce(sum(${keyHash(key)}), 0)::text AS keys,
           (count(*) FILTER (WHERE ${recent}))::text AS recent,
           coalesce(sum(hashtextextended(${row(columns)}, 0)) FILTER (WHERE ${recent}), 0)::text AS "recentSum"
    FROM ${quoteQualified('public', table)} t`;
}
