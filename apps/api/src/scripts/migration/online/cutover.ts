import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { CopyTask } from '../plan/plan-resolver';
import { releaseClients } from '../snapshot/exported-snapshot';
import { ChangedRows } from './changed-keys';
import { freezeTargets, verifyChanged } from './cutover-verify';
import { CUTOVER_MESSAGE_PREFIX, ONLINE_APPLICATION } from './monolith-objects';

export type CutoverContext = {
  connections: PostgresConnectionFactory;
  monolith: DatabaseLocation;
  maintenance: DatabaseLocation;
  locations: Record<SchemaKind, DatabaseLocation>;
  tasks: CopyTask[];
  societeId: string;
  maxPauseMs: number;
  /** Source tables with changes applied since the copy. */
  changedTables: () => string[];
  /** Which rows of a changed table to verify: the changed keys, or the whole table. */
  changedRows: (table: string) => ChangedRows;
  /** 'drained' when the follower has applied everything before the marker; rejects if the follow failed. */
  drainedTo: (marker: string, deadlineMs: number) => Promise<'drained' | 'timeout'>;
};

/** The pause's parts, in ms: where a slow cutover spent its time. */
export type CutoverPhases = {
  lock: number;
  drain: number;
  sequences: number;
  freeze: number;
  verify: number;
  readOnly: number;
};

export type CutoverOutcome =
  | {
      ok: true;
      pauseMs: number;
      phasesMs: CutoverPhases;
      verifiedTables: string[];
      keyedRows: number;
      wholeTables: string[];
      /** The targets as they were at the cutover (one REPEATABLE READ transaction each): the caller ends them. */
      frozenTargets: Map<SchemaKind, Client>;
    }
  | { ok: false; pauseMs: number; reason: string };

class PauseExceeded extends Error {}

/**
 * One cutover attempt. Writes to every published table are blocked by EXCLUSIVE locks held by our
 * session (reads go on), a marker is written to the WAL after the last change that could commit,
 * the follower drains to it, target sequences are moved past the monolith's, the targets are frozen
 * in a snapshot each, the rows that changed since the copy (by key; whole tables where keys are
 * unknown) are counted and checksummed on both sides, then the monolith is made read-only for
 * applications (new sessions by default, existing ones ended) before the locks are released. If
 * the pause would pass maxPauseMs before the monolith is read-only, the locks are released and the
 * writes resume: nothing was changed on either side.
 */
export async function attemptCutover(context: CutoverContext): Promise<CutoverOutcome> {
  const started = Date.now();
  const deadline = started + context.maxPauseMs;
  const remaining = () => {
    const left = deadline - Date.now();
    if (left <= 0) throw new PauseExceeded('the pause would pass --max-pause-ms');
    return left;
  };
  const session = await context.connections.connect(context.monolith, {
    applicationName: `${ONLINE_APPLICATION}-cutover`,
  });
  const phases = phaseClock(started);
  try {
    await session.query(DETERMINISTIC_SESSION_SETTINGS);
    // A rerun after a cutover killed halfway may find the monolith already read-only for new sessions.
    await session.query('SET default_transaction_read_only = off');
    await session.query('BEGIN');
    try {
      await lockWithoutDeadlocks(session, [...new Set(context.tasks.map((task) => task.source))], remaining);
      phases.end('lock');
      await session.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(remaining()))}`);
      const marker = `${started}-${process.pid}`;
      await session.query('SELECT pg_logical_emit_message(false, $1, $2)', [CUTOVER_MESSAGE_PREFIX, marker]);
      if ((await context.drainedTo(marker, deadline)) === 'timeout')
        throw new PauseExceeded('the changes in flight could not be applied within --max-pause-ms');
      phases.end('drain');
      await syncSequences(session, context);
      phases.end('sequences');
      remaining();
      await session.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(remaining()))}`);
      const targets = await freezeTargets(context.connections, context.locations);
      phases.end('freeze');
      let handedOver = false;
      try {
        const changed = context.changedTables();
        const checked = await verifyChanged(session, targets, context, changed);
        phases.end('verify');
        if (checked.mismatches.length > 0) {
          await session.query('ROLLBACK');
          return {
            ok: false,
            pauseMs: Date.now() - started,
            reason: `verification failed: ${checked.mismatches.join('; ')}`,
          };
        }
        remaining();
        await makeReadOnly(session, context);
        await session.query('COMMIT');
        phases.end('readOnly');
        handedOver = true;
        const { keyedRows, wholeTables } = checked;
        return {
          ok: true,
          pauseMs: Date.now() - started,
          phasesMs: phases.done(),
          verifiedTables: changed,
          keyedRows,
          wholeTables,
          frozenTargets: targets,
        };
      } finally {
        if (!handedOver) await releaseClients([...targets.values()]);
      }
    } catch (error) {
      await session.query('ROLLBACK').catch(() => undefined);
      const reason = error instanceof PauseExceeded ? error.message : pauseReason(error);
      if (reason) return { ok: false, pauseMs: Date.now() - started, reason };
      throw error;
    }
  } finally {
    await session.end().catch(() => undefined);
  }
}

/** Records how long each phase of the pause took, each from the end of the one before. */
function phaseClock(started: number): { end(phase: keyof CutoverPhases): void; done(): CutoverPhases } {
  const phases: CutoverPhases = { lock: 0, drain: 0, sequences: 0, freeze: 0, verify: 0, readOnly: 0 };
  let last = started;
  return {
    end(phase) {
      const now = Date.now();
      phases[phase] = now - last;
      last = now;
    },
    done: () => ({ ...phases }),
  };
}

/** The first try's lock_timeout: an application's short transactions end well within it. */
const FIRST_LOCK_TRY_MS = 50;

/**
 * Takes the write locks in short tries, each shorter than the server's deadlock_timeout, giving
 * back whatever it got between tries. An application transaction that waits for one of these
 * locks while holding another is therefore never kept waiting long enough for PostgreSQL to find
 * a deadlock and cancel it: the cutover yields instead, and tries again within --max-pause-ms.
 * Such a try can only end by its timeout, so two things keep the tries few under a steady load
 * (with 500 ms tries in one statement, the lock alone took 1.5–4.3 s at 200 tx/s in the bench):
 * - the table whose lock timed out is locked first in the next try. A transaction that held it
 *   while waiting for a table already ours then finishes before we take the rest, so the order
 *   converges on the order the application writes in;
 * - tries start at 50 ms and double up to half the deadlock_timeout, so a transaction that merely
 *   runs a little longer is still waited for.
 */
async function lockWithoutDeadlocks(
  session: Client,
  tables: string[],
  remaining: () => number,
): Promise<void> {
  const setting = await session.query<{ ms: number }>(
    "SELECT setting::int AS ms FROM pg_settings WHERE name = 'deadlock_timeout'",
  );
  const longestTryMs = Math.max(10, Math.floor((setting.rows[0]?.ms ?? 1000) / 2));
  let order = [...tables];
  for (let tryMs = Math.min(FIRST_LOCK_TRY_MS, longestTryMs); ; tryMs = Math.min(tryMs * 2, longestTryMs)) {
    const left = remaining();
    await session.query('SAVEPOINT topsteel_cutover_lock');
    await session.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(tryMs, Math.floor(left)))}`);
    const blocked = await lockInOrder(session, order);
    if (blocked === null) {
      await session.query('RELEASE SAVEPOINT topsteel_cutover_lock');
      return;
    }
    await session.query('ROLLBACK TO SAVEPOINT topsteel_cutover_lock');
    order = [blocked, ...order.filter((table) => table !== blocked)];
    await cancelAutovacuum(session, tables);
  }
}

/** Locks the tables one by one in this order: the table whose lock timed out, or null once all are held. */
async function lockInOrder(session: Client, order: string[]): Promise<string | null> {
  for (const table of order) {
    try {
      await session.query(`LOCK TABLE ${quoteQualified('public', table)} IN EXCLUSIVE MODE`);
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error;
      return table;
    }
  }
  return null;
}

/**
 * An autovacuum or autoanalyze of a large table holds a lock that EXCLUSIVE waits for, for as long
 * as it runs (seconds at 1,000,000 rows: the lock alone took 4.3 s in the bench). PostgreSQL cancels
 * such a worker itself once a conflicting request has waited deadlock_timeout, which our shorter
 * tries never do: so after a failed try the workers holding these tables are cancelled, as the
 * server would, except one that prevents wraparound (the server never cancels those either). It
 * needs a superuser; without one, the tries just go on until the worker ends.
 */
async function cancelAutovacuum(session: Client, tables: string[]): Promise<void> {
  await session.query('SAVEPOINT topsteel_cutover_autovacuum');
  try {
    // Inside a transaction pg_stat_activity is read once and kept: a worker started since the
    // last failed try (the one relaunched on the table just cancelled) would never be seen.
    await session.query('SELECT pg_stat_clear_snapshot()');
    await session.query(
      `SELECT pg_cancel_backend(pid) FROM (
         SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
         WHERE a.backend_type = 'autovacuum worker' AND a.datname = current_database()
           AND l.relation = ANY (SELECT to_regclass(format('public.%I', t)) FROM unnest($1::text[]) AS t)
           AND a.query NOT LIKE '%to prevent wraparound%'
         OFFSET 0) workers`,
      [tables],
    );
    await session.query('RELEASE SAVEPOINT topsteel_cutover_autovacuum');
  } catch {
    await session.query('ROLLBACK TO SAVEPOINT topsteel_cutover_autovacuum');
  }
}

/** lock_timeout and statement_timeout during the pause mean "too long", not "broken". */
function pauseReason(error: unknown): string | null {
  const code = (error as { code?: string }).code;
  if (code === '55P03') return 'the write lock could not be taken within --max-pause-ms';
  if (code === '57014') return 'the verification would pass --max-pause-ms';
  return null;
}

/** Target sequences named like the monolith's are moved to at least the monolith's value. */
async function syncSequences(session: Client, context: CutoverContext): Promise<void> {
  const sequences = await session.query<{ name: string; value: string }>(
    `SELECT sequencename AS name, last_value::text AS value FROM pg_sequences
     WHERE schemaname = 'public' AND last_value IS NOT NULL`,
  );
  if (sequences.rows.length === 0) return;
  for (const kind of Object.keys(context.locations) as SchemaKind[])
    await context.connections.withClient(context.locations[kind], (target) =>
      target.query(
        `SELECT setval(format('%I.%I', s.schemaname, s.sequencename)::regclass, m.value)
         FROM pg_sequences s JOIN unnest($1::text[], $2::bigint[]) AS m(name, value) ON m.name = s.sequencename
         WHERE s.schemaname = 'public' AND (s.last_value IS NULL OR s.last_value < m.value)`,
        [sequences.rows.map((row) => row.name), sequences.rows.map((row) => row.value)],
      ),
    );
}

/**
 * Applications can no longer write to the monolith: new sessions start read-only, and every other
 * session on it (writers waiting on our locks included) is ended. The tool's sessions are kept.
 */
async function makeReadOnly(session: Client, context: CutoverContext): Promise<void> {
  await context.connections.withClient(
    context.maintenance,
    async (maintenance) => {
      await maintenance.query(
        `ALTER DATABASE ${quoteIdentifier(context.monolith.database)} SET default_transaction_read_only = on`,
      );
      const ours = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // Twice: a session that read the database's settings just before the ALTER committed, but
      // was not yet listed at the first pass, would stay writable once our locks are released.
      for (let pass = 0; pass < 2; pass++)
        await maintenance.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2 AND backend_type = 'client backend'
             AND application_name NOT LIKE $3`,
          [context.monolith.database, ours, `${ONLINE_APPLICATION}%`],
        );
    },
    { applicationName: `${ONLINE_APPLICATION}-readonly` },
  );
}
