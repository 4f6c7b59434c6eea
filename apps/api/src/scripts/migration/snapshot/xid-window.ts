/*
 * Transaction ids come in two widths: 64-bit xid8 (pg_current_xact_id, snapshots), which never
 * wrap, and the 32-bit xid that row headers hold (`xmin`), which is an xid8 modulo 2^32. The
 * proofs that compare the two (snapshot-horizon.ts, split/loaded-xids.ts, the clean's check) build
 * their SQL from these fragments, so the conversion and the distance are written once.
 */

/** 2^32: an xid8 and the 32-bit xid of the same transaction agree modulo this. */
export const XID_SPAN = 4294967296;

/** SQL: the 32-bit xid, as row headers hold it, of an xid8 expression (or a parameter holding one as text). */
export const xid32Sql = (xid8: string): string =>
  `((${xid8})::text::numeric % ${XID_SPAN})::bigint::text::xid`;

/**
 * SQL: how many transaction ids an xid8 lies behind the present of the session's snapshot (its
 * xmax), as numeric: 0 or more for a transaction already begun, negative for one in the future.
 */
export const xidDistanceSql = (xid8: string): string =>
  `(pg_snapshot_xmax(pg_current_snapshot())::text::numeric - (${xid8})::text::numeric)`;
