import { SchemaKind } from '../../../database/migrations/migration-sets';

/** One new database flowing back into the monolith: its publication and slot there, the subscription in the monolith. */
export type ReverseLink = {
  kind: SchemaKind;
  database: string;
  host: string | null;
  port: number | null;
  publication: string;
  slot: string;
  subscription: string;
  /** Published tables: the new database's name, the monolith's, and the legacy columns that flow back. */
  tables: { target: string; source: string; columns: string[] }[];
  /** The new database's server when the sync started (absent in states recorded before it was kept). */
  since?: XidPoint;
};

/**
 * A server's transaction horizon when the reverse sync started: every transaction with a 64-bit id
 * below `xid` had ended then (txid_snapshot_xmin), `at` is the server's clock. Rows whose xmin is
 * older were written before the sync and have not changed since (any change writes a new xmin).
 */
export type XidPoint = { xid: string; at: string };

/** What the journal keeps of the reverse sync (online_split.reverse_sync). */
export type ReverseSyncState = {
  links: ReverseLink[];
  /** Target tables set to REPLICA IDENTITY FULL (no key) so that their UPDATE/DELETE publish. */
  identities: { database: string; table: string }[];
  /** Monolith shadow tables for the renamed targets (shared_materials forwarding to materiaux). */
  shadows: { shadow: string; legacy: string; columns: string[] }[];
  startedAt: string;
  /** The monolith's server when the sync started, before any subscription could write. */
  monolithSince?: XidPoint;
  /** Set by the rollback once the monolith was verified level with the new databases. */
  drainedAt?: string;
};

export const REVERSE_PUBLICATION = 'topsteel_reverse';
export const REVERSE_APPLICATION = 'topsteel-reverse';

/** Slot names are cluster-wide: they carry the monolith's name; subscription names live in the monolith. */
export function reverseNames(
  monolith: string,
  kind: SchemaKind,
): { publication: string; slot: string; subscription: string } {
  return {
    publication: REVERSE_PUBLICATION,
    slot: `topsteel_rev_${kind}_${monolith}`.slice(0, 63),
    subscription: `topsteel_rev_${kind}`,
  };
}
