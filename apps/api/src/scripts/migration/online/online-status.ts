import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { OnlineJournal, OnlinePhase } from './online-journal';
import { readReverseStatus, ReverseLinkStatus } from './reverse-status';

/** Above this, a slot's retained WAL is worth a warning: the monolith's disk fills while it lives. */
export const RETAINED_WAL_WARNING_BYTES = 1024 ** 3;

export type OnlineStatus = {
  phase: OnlinePhase;
  slot: string;
  lagMs: number | null;
  lagBytes: number | null;
  retainedWalBytes: number | null;
  changesApplied: number;
  cutoverAttempts: number;
  pauseMs: number | null;
  warning: string | null;
  /** The monolith's subscriptions to the new databases after the cutover, per database; null when none. */
  reverseSync: ReverseLinkStatus[] | null;
};

/** The online split as `db:status` shows it, or null when none was started. */
export async function readOnlineStatus(
  connections: PostgresConnectionFactory,
  databases: { auth: string; monolith: string },
): Promise<OnlineStatus | null> {
  const state = await connections
    .withClient({ database: databases.auth }, (client) => new OnlineJournal(client).read(), {
      applicationName: 'topsteel-status',
    })
    .catch(() => null);
  if (!state) return null;
  const slot = await connections
    .withClient(
      { database: databases.monolith },
      async (client) =>
        (
          await client.query<{ lag: string | null; retained: string | null }>(
            `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag,
                    pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text AS retained
             FROM pg_replication_slots WHERE slot_name = $1`,
            [state.slotName],
          )
        ).rows[0] ?? null,
      { readOnly: true, applicationName: 'topsteel-status' },
    )
    .catch(() => null);
  const retained = slot?.retained ? Number(slot.retained) : null;
  return {
    phase: state.phase,
    slot: state.slotName,
    lagMs: state.lagMs,
    lagBytes: slot?.lag ? Number(slot.lag) : null,
    retainedWalBytes: retained,
    changesApplied: state.changesApplied,
    cutoverAttempts: state.cutoverAttempts,
    pauseMs: state.pauseMs,
    reverseSync: state.reverseSync
      ? await readReverseStatus(connections, databases.monolith, state.reverseSync)
      : null,
    warning:
      retained !== null && retained > RETAINED_WAL_WARNING_BYTES
        ? `the slot ${state.slotName} retains ${Math.round(retained / 1024 ** 2)} MB of WAL on the monolith's server: finish the cutover or roll back`
        : null,
  };
}
