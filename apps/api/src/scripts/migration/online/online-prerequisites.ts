import { Client } from 'pg';
import { Check } from '../../../common/run/check';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';

/** What the monolith's server offers for logical decoding, read before anything is created. */
export type OnlinePrerequisites = {
  walLevel: string;
  freeSlots: number;
  freeWalSenders: number;
  canReplicate: boolean;
  /** Planned tables whose UPDATE and DELETE could not be decoded: no primary key and no replica identity. */
  withoutIdentity: string[];
};

export async function readOnlinePrerequisites(
  client: Client,
  tables: string[],
): Promise<OnlinePrerequisites> {
  const server = await client.query<{
    wal_level: string;
    free_slots: number;
    free_senders: number;
    can_replicate: boolean;
  }>(
    `SELECT current_setting('wal_level') AS wal_level,
            current_setting('max_replication_slots')::int - (SELECT count(*)::int FROM pg_replication_slots) AS free_slots,
            current_setting('max_wal_senders')::int
              - (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'walsender') AS free_senders,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate`,
  );
  const identity = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname = ANY($1::text[]) AND c.relkind = 'r'
       AND (c.relreplident = 'n'
            OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
     ORDER BY 1`,
    [tables],
  );
  const row = server.rows[0];
  return {
    walLevel: row.wal_level,
    freeSlots: row.free_slots,
    freeWalSenders: row.free_senders,
    canReplicate: row.can_replicate,
    withoutIdentity: identity.rows.map((table) => table.name),
  };
}

const WAL_DETAIL = (walLevel: string) =>
  `wal_level is ${walLevel}: the online split decodes the monolith's changes and needs wal_level = logical, a setting that only takes effect after a restart of PostgreSQL`;

/** Fails before anything is created when the server cannot decode changes. */
export function assertOnlinePossible(prerequisites: OnlinePrerequisites): void {
  if (prerequisites.walLevel !== 'logical')
    throw new OnlineSplitException(
      OnlineSplitExceptionCode.LogicalWalRequired,
      `${WAL_DETAIL(prerequisites.walLevel)}; nothing was created`,
      { setting: 'wal_level', value: prerequisites.walLevel, required: 'logical', restartRequired: true },
    );
  const problems = replicationProblems(prerequisites);
  if (problems.length > 0)
    throw new OnlineSplitException(OnlineSplitExceptionCode.ReplicationUnavailable, problems.join('; '), {
      problems,
    });
}

function replicationProblems(prerequisites: OnlinePrerequisites): string[] {
  return [
    prerequisites.freeSlots < 1 ? 'no free replication slot (max_replication_slots)' : '',
    prerequisites.freeWalSenders < 1 ? 'no free WAL sender (max_wal_senders)' : '',
    prerequisites.canReplicate ? '' : 'the role has neither REPLICATION nor SUPERUSER',
  ].filter((problem) => problem !== '');
}

/** The dry-run's lines for `--online`: the blocker, then how tables without identity are handled. */
export function onlineChecks(prerequisites: OnlinePrerequisites): Check[] {
  const problems = replicationProblems(prerequisites);
  const checks: Check[] = [
    {
      id: 'online-wal-level',
      label: 'wal_level = logical (online split)',
      ok: prerequisites.walLevel === 'logical',
      detail:
        prerequisites.walLevel === 'logical'
          ? 'wal_level is logical'
          : `${WAL_DETAIL(prerequisites.walLevel)} (LOGICAL_WAL_REQUIRED)`,
    },
    {
      id: 'online-replication',
      label: 'a replication slot and a WAL sender are available',
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${prerequisites.freeSlots} free slot(s), ${prerequisites.freeWalSenders} free WAL sender(s)`
          : problems.join('; '),
    },
  ];
  if (prerequisites.withoutIdentity.length > 0)
    checks.push({
      id: 'online-replica-identity',
      label: 'tables whose UPDATE/DELETE could not be decoded',
      ok: true,
      info: true,
      detail: `${prerequisites.withoutIdentity.join(', ')}: no primary key and no replica identity; the online split sets REPLICA IDENTITY FULL on them (recorded in the journal, put back at the end)`,
    });
  return checks;
}
