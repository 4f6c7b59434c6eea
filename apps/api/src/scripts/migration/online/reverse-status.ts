import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { findReverseConflict, ReverseConflict } from './reverse-conflict';
import { REVERSE_APPLICATION, ReverseSyncState } from './reverse-sync-names';

/** One new database's reverse sync as `db:status` and `db:rollback:validate` show it. */
export type ReverseLinkStatus = {
  database: string;
  subscription: string;
  slot: string;
  /**
   * running: the apply worker is up; stopped: enabled but no worker (starting, restarting after a
   * server restart); disabled: by someone, or by PostgreSQL after an apply error (disable_on_error);
   * missing.
   */
  state: 'running' | 'stopped' | 'disabled' | 'missing';
  /** WAL the monolith has not confirmed yet, from the slot on the new database. */
  lagBytes: number | null;
  /** Since the last message the apply worker received (pg_stat_subscription). */
  lastMessageAgeMs: number | null;
  /** Errors of the apply worker since the subscription was created (pg_stat_subscription_stats). */
  applyErrors: number | null;
  /**
   * For a subscription disabled after an error: the change that fails, as PostgreSQL words it
   * (table, constraint, key), or, when it no longer fails, that it was resolved.
   */
  conflict: ReverseConflict | null;
};

type SubscriptionRow = {
  subname: string;
  subenabled: boolean;
  pid: number | null;
  age: string | null;
  errors: string | null;
};

const SUBSCRIPTIONS = `SELECT s.subname, s.subenabled, st.pid,
    (extract(epoch FROM now() - st.last_msg_receipt_time) * 1000)::bigint::text AS age,
    ss.apply_error_count::text AS errors
  FROM pg_subscription s
  LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
  LEFT JOIN pg_stat_subscription_stats ss ON ss.subid = s.oid
  WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`;

const stateOf = (row: SubscriptionRow | undefined): ReverseLinkStatus['state'] =>
  !row ? 'missing' : !row.subenabled ? 'disabled' : row.pid === null ? 'stopped' : 'running';

export async function readReverseStatus(
  connections: PostgresConnectionFactory,
  monolith: string,
  state: ReverseSyncState,
): Promise<ReverseLinkStatus[]> {
  const subscriptions = await connections
    .withClient(
      { database: monolith },
      async (client) => (await client.query<SubscriptionRow>(SUBSCRIPTIONS)).rows,
      {
        readOnly: true,
        applicationName: REVERSE_APPLICATION,
      },
    )
    .catch(() => []);
  const statuses: ReverseLinkStatus[] = [];
  for (const link of state.links) {
    const subscription = subscriptions.find((row) => row.subname === link.subscription);
    const lag = await connections
      .withClient(
        { database: link.database, host: link.host, port: link.port },
        async (client) =>
          (
            await client.query<{ lag: string | null }>(
              `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag
               FROM pg_replication_slots WHERE slot_name = $1`,
              [link.slot],
            )
          ).rows[0]?.lag ?? null,
        { readOnly: true, applicationName: REVERSE_APPLICATION },
      )
      .catch(() => null);
    const applyErrors = subscription?.errors == null ? null : Number(subscription.errors);
    const linkState = stateOf(subscription);
    // Only a subscription that is down has its slot free to be read.
    const conflict =
      linkState === 'disabled' && (applyErrors ?? 0) > 0
        ? await connections
            .withClient({ database: monolith }, (client) => findReverseConflict(connections, client, link), {
              applicationName: REVERSE_APPLICATION,
            })
            .catch(() => null)
        : null;
    statuses.push({
      database: link.database,
      subscription: link.subscription,
      slot: link.slot,
      state: linkState,
      lagBytes: lag === null ? null : Number(lag),
      lastMessageAgeMs: subscription?.age == null ? null : Number(subscription.age),
      applyErrors,
      conflict,
    });
  }
  return statuses;
}
