import { Client } from 'pg';
import { ReverseSyncState } from './reverse-sync-names';

export type OnlinePhase = 'copying' | 'following' | 'cutover' | 'done';

/** The online split as the journal records it (AUTH, migration_journal.online_split). */
export type OnlineState = {
  phase: OnlinePhase;
  slotName: string;
  publicationName: string;
  consistentLsn: string | null;
  appliedLsn: string | null;
  /** Tables the split set to REPLICA IDENTITY FULL, put back to DEFAULT at the end. */
  replicaIdentities: string[];
  /** Source tables with changes applied since the copy: what the cutover verifies. */
  changedTables: string[];
  changesApplied: number;
  cutoverAttempts: number;
  cutoverRequestedAt: string | null;
  cutoverOutcome: string | null;
  pauseMs: number | null;
  lagMs: number | null;
  runId: string | null;
  /** Set once the reverse sync runs (monolith subscribed to the new databases); null otherwise. */
  reverseSync: ReverseSyncState | null;
};

const COLUMNS = `phase, slot_name, publication_name, consistent_lsn::text, applied_lsn::text, replica_identities,
  changed_tables, changes_applied, cutover_attempts, cutover_requested_at, cutover_outcome, pause_ms, lag_ms, run_id,
  to_jsonb(o.*) -> 'reverse_sync' AS reverse_sync`;

type Row = {
  phase: OnlinePhase;
  slot_name: string;
  publication_name: string;
  consistent_lsn: string | null;
  applied_lsn: string | null;
  replica_identities: string[];
  changed_tables: string[];
  changes_applied: string;
  cutover_attempts: number;
  cutover_requested_at: Date | null;
  cutover_outcome: string | null;
  pause_ms: number | null;
  lag_ms: string | null;
  run_id: string | null;
  reverse_sync: ReverseSyncState | null;
};

/** Reads and writes the online split's row through a journal connection (the schema is ensured by the journal). */
export class OnlineJournal {
  constructor(private readonly client: Client) {}

  async read(): Promise<OnlineState | null> {
    const present = await this.client.query<{ present: boolean }>(
      "SELECT to_regclass('migration_journal.online_split') IS NOT NULL AS present",
    );
    if (!present.rows[0].present) return null;
    const result = await this.client.query<Row>(`SELECT ${COLUMNS} FROM migration_journal.online_split o`);
    const row = result.rows[0];
    if (!row) return null;
    return {
      phase: row.phase,
      slotName: row.slot_name,
      publicationName: row.publication_name,
      consistentLsn: row.consistent_lsn,
      appliedLsn: row.applied_lsn,
      replicaIdentities: row.replica_identities,
      changedTables: row.changed_tables,
      changesApplied: Number(row.changes_applied),
      cutoverAttempts: row.cutover_attempts,
      cutoverRequestedAt: row.cutover_requested_at?.toISOString() ?? null,
      cutoverOutcome: row.cutover_outcome,
      pauseMs: row.pause_ms,
      lagMs: row.lag_ms === null ? null : Number(row.lag_ms),
      runId: row.run_id,
      reverseSync: row.reverse_sync ?? null,
    };
  }

  async start(state: { slotName: string; publicationName: string; runId: string }): Promise<void> {
    await this.client.query(
      `INSERT INTO migration_journal.online_split (phase, slot_name, publication_name, run_id)
       VALUES ('copying', $1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET phase = 'copying', slot_name = $1, publication_name = $2, run_id = $3,
         consistent_lsn = NULL, applied_lsn = NULL, changed_tables = '{}', changes_applied = 0,
         cutover_attempts = 0, cutover_requested_at = NULL, cutover_outcome = NULL, pause_ms = NULL, lag_ms = NULL,
         updated_at = now()`,
      [state.slotName, state.publicationName, state.runId],
    );
  }

  async update(changes: Partial<Record<keyof typeof FIELD, unknown>>): Promise<void> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    const assignments = entries.map(([key], index) => `${FIELD[key as keyof typeof FIELD]} = $${index + 1}`);
    await this.client.query(
      `UPDATE migration_journal.online_split SET ${assignments.join(', ')}, updated_at = now()`,
      entries.map(([, value]) => value),
    );
  }

  /** Adds to the running totals after a committed batch (monotonic: never moves the position back). */
  async recordApplied(lsn: string, changes: number, tables: string[], lagMs: number): Promise<void> {
    await this.client.query(
      `UPDATE migration_journal.online_split SET
         applied_lsn = GREATEST(coalesce(applied_lsn, '0/0'::pg_lsn), $1::pg_lsn),
         changes_applied = changes_applied + $2,
         changed_tables = ARRAY(SELECT DISTINCT unnest(changed_tables || $3::text[]) ORDER BY 1),
         lag_ms = $4, updated_at = now()`,
      [lsn, changes, tables, lagMs],
    );
  }

  async setReverseSync(state: ReverseSyncState | null): Promise<void> {
    await this.client.query(
      'UPDATE migration_journal.online_split SET reverse_sync = $1::jsonb, updated_at = now()',
      [state === null ? null : JSON.stringify(state)],
    );
  }

  async clear(): Promise<void> {
    await this.client.query('DELETE FROM migration_journal.online_split');
  }
}

/** The journal columns a caller may set, by field name (never built from input). */
const FIELD = {
  phase: 'phase',
  consistentLsn: 'consistent_lsn',
  appliedLsn: 'applied_lsn',
  replicaIdentities: 'replica_identities',
  cutoverAttempts: 'cutover_attempts',
  cutoverRequestedAt: 'cutover_requested_at',
  cutoverOutcome: 'cutover_outcome',
  pauseMs: 'pause_ms',
  lagMs: 'lag_ms',
} as const;
