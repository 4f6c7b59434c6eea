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
};

/** What the journal keeps of the reverse sync (online_split.reverse_sync). */
export type ReverseSyncState = {
  links: ReverseLink[];
  /** Target tables set to REPLICA IDENTITY FULL (no key) so that their UPDATE/DELETE publish. */
  identities: { database: string; table: string }[];
  /** Monolith shadow tables for the renamed targets (shared_materials forwarding to materiaux). */
  shadows: { shadow: string; legacy: string; columns: string[] }[];
  startedAt: string;
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
