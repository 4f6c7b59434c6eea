import { Client } from 'pg';
import { quoteIdentifier } from '../../../common/identifiers/identifier';
import { RunContext } from '../../../common/run/run-context';
import { translateDatabaseError } from '../../../modules/database/database.exception';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { OnlineJournal } from '../online/online-journal';
import { levelFromShadow } from '../online/reverse-sync-materials';
import { REVERSE_APPLICATION, ReverseLink, ReverseSyncState } from '../online/reverse-sync-names';
import { stopReverseSync } from '../online/reverse-sync';
import { findReverseConflict } from '../online/reverse-conflict';
import { MonolithVerifier } from './monolith-verification';
import { enableHint } from './rollback-messages';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';

/** How long the rollback waits for the monolith to confirm the new databases' last change. */
const DRAIN_TIMEOUT_MS = 120000;

export type ReverseDrainReport = {
  /** From blocking writes on the new databases to the monolith writable again. */
  pauseMs: number;
  /** The pause's parts: blocking the new databases, the drain, levelling the renamed tables, the verification. */
  phasesMs: { block: number; drain: number; level: number; verify: number } | null;
  tablesVerified: number;
  /** Of those, compared by their rows changed since the sync started (the rest in full). */
  tablesVerifiedIncrementally: number;
  /** Renamed tables brought level from their shadow (shared_materials -> materiaux). */
  leveled: { table: string; updated: number; inserted: number; deleted: number }[];
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const locationOf = (link: ReverseLink): DatabaseLocation => ({
  database: link.database,
  host: link.host,
  port: link.port,
});

/** The reverse sync the journal records, or null (offline split, --no-reverse-sync, AUTH gone). */
export async function readReverseSync(dependencies: RollbackDependencies): Promise<ReverseSyncState | null> {
  const auth = { database: dependencies.config.authDatabase };
  if (!(await dependencies.admin.exists(auth))) return null;
  const state = await dependencies.connections
    .withClient(auth, (client) => new OnlineJournal(client).read(), { applicationName: REVERSE_APPLICATION })
    .catch(() => null);
  return state?.reverseSync ?? null;
}

/**
 * `db:rollback` after an online split with reverse sync: block writes on the new databases, let the
 * monolith's subscriptions apply everything committed there (resuming a disabled one), bring the
 * renamed tables level, verify the monolith against the new databases over the legacy columns, make
 * the monolith writable, then take the sync down. A failure before the monolith is writable lets
 * writes through on the new databases again and changes nothing else.
 */
export async function drainReverseSync(
  dependencies: RollbackDependencies,
  state: ReverseSyncState,
  run: RunContext,
): Promise<ReverseDrainReport> {
  const { connections, config } = dependencies;
  const monolith = { database: config.monolithDatabase };
  if (state.drainedAt) {
    run.info('The reverse sync was drained and verified by an earlier run: taking it down.');
    await stopReverseSync(connections, config, state);
    return { pauseMs: 0, phasesMs: null, tablesVerified: 0, tablesVerifiedIncrementally: 0, leveled: [] };
  }
  // Every session the pause needs opens before it: a connection costs an authentication round.
  const verifier = await run.step('open the verification sessions', () =>
    MonolithVerifier.prepare(connections, monolith, state),
  );
  let report: Omit<ReverseDrainReport, 'pauseMs'>;
  let started = Date.now();
  try {
    report = await withPauseSessions(dependencies, state.links, async (here, there) => {
      const toLevel = await touchedByLevelling(here, state);
      started = Date.now();
      await run.step('block writes on the new databases', () => block(there, state.links, verifier));
      // Nothing changes on the new databases any more: their side is read while the monolith drains.
      verifier.startNewSide();
      const blocked = Date.now();
      await here.query('SET default_transaction_read_only = off');
      // A disabled subscription is not resumed here: the validation refused it, naming why.
      // A link's tables in the monolith are final once it has drained, but for those the levelling writes.
      await run.step('drain the reverse sync', () =>
        drain(dependencies, here, there, state.links, (link) => {
          if (toLevel) verifier.startMonolithSide(link.database, toLevel);
        }),
      );
      const drained = Date.now();
      const leveled = await levelShadows(here, state);
      const leveledAt = Date.now();
      const verified = await run.step('verify the monolith', () => verifier.finish());
      const verifiedAt = Date.now();
      await here.query(
        `ALTER DATABASE ${quoteIdentifier(monolith.database)} RESET default_transaction_read_only`,
      );
      return {
        phasesMs: {
          block: blocked - started,
          drain: drained - blocked,
          level: leveledAt - drained,
          verify: verifiedAt - leveledAt,
        },
        leveled,
        tablesVerified: verified.tablesVerified,
        tablesVerifiedIncrementally: verified.incremental,
      };
    });
  } catch (error) {
    await letWritesThrough(dependencies, state.links).catch((reopen: unknown) =>
      run.info(
        `Could not let writes through again on ${state.links.map((link) => link.database).join(', ')} (${reopen instanceof Error ? reopen.message : String(reopen)}): run ALTER DATABASE … RESET default_transaction_read_only there.`,
      ),
    );
    throw error;
  } finally {
    await verifier.end();
  }
  const pauseMs = Date.now() - started;
  run.info(
    `Reverse sync drained: ${report.tablesVerified} tables verified (${report.tablesVerifiedIncrementally} by their rows changed since the sync started), ${monolith.database} writable again after a ${pauseMs} ms write pause.`,
  );
  await dependencies.journal.withJournal(async (repository) => {
    // AUTH is read-only for applications now; the tool's own session opts out.
    await repository.client.query('SET default_transaction_read_only = off');
    await new OnlineJournal(repository.client).setReverseSync({
      ...state,
      drainedAt: new Date().toISOString(),
    });
  });
  await run.step('stop the reverse sync', () => stopReverseSync(connections, config, state));
  return { pauseMs, ...report };
}

/** The monolith's session and one per new database, opened before the pause and ended after it. */
async function withPauseSessions<T>(
  { connections, config }: RollbackDependencies,
  links: ReverseLink[],
  work: (monolith: Client, links: Map<string, Client>) => Promise<T>,
): Promise<T> {
  const options = { applicationName: REVERSE_APPLICATION };
  const opened = await Promise.allSettled([
    connections.connect({ database: config.monolithDatabase }, options),
    ...links.map((link) => connections.connect(locationOf(link), options)),
  ]);
  const clients = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = opened.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [monolith, ...others] = clients;
    return await work(monolith, new Map(links.map((link, index) => [link.database, others[index]])));
  } catch (error) {
    // As withClient would: a server error becomes the tool's own (a RollbackException passes as it is).
    throw translateDatabaseError(
      error,
      [config.monolithDatabase, ...links.map((link) => link.database)].map((name) => `"${name}"`).join(', '),
    );
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

/**
 * Makes the new databases read-only for new sessions and ends the application's sessions, so that
 * none keeps writing in a transaction already open; this run's own sessions stay (the verifier's
 * are read-only).
 */
async function block(
  clients: Map<string, Client>,
  links: ReverseLink[],
  verifier: MonolithVerifier,
): Promise<void> {
  // All at once: each database's statements are independent, and the pause runs meanwhile.
  await settleAll(
    links.map(async (link) => {
      const client = clients.get(link.database) as Client;
      await client.query(
        `ALTER DATABASE ${quoteIdentifier(link.database)} SET default_transaction_read_only = on`,
      );
      // Twice: a session that read the database's settings just before the ALTER committed, but
      // was not yet listed when the first pass ran, is writable; by the second pass it is listed.
      for (let pass = 0; pass < 2; pass++) {
        // Terminated in the select list of a fenced subquery: WHERE conditions run in any order.
        const { rows } = await client.query<{ pid: number; ended: boolean }>(
          `SELECT pid, pg_terminate_backend(pid) AS ended FROM (
             SELECT pid FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid() AND NOT (pid = ANY($2::int[]))
               AND backend_type = 'client backend'
             OFFSET 0) others`,
          [link.database, verifier.pidsOn(link.database)],
        );
        await gone(
          client,
          link.database,
          rows.filter((row) => row.ended).map((row) => row.pid),
        );
      }
    }),
  );
}

/**
 * Waits until the ended sessions are gone: a session ended in the middle of its commit finishes
 * it first, and the drain's position and the new database's side must come after that commit.
 */
async function gone(client: Client, database: string, pids: number[]): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (pids.length > 0) {
    const { rows } = await client.query<{ left: number }>(
      'SELECT count(*)::int AS left FROM pg_stat_activity WHERE pid = ANY($1::int[])',
      [pids],
    );
    if (rows[0].left === 0) return;
    if (Date.now() > deadline)
      throw behind(
        `sessions on ${database} did not end within ${DRAIN_TIMEOUT_MS / 1000} s of being terminated`,
      );
    await sleep(10);
  }
}

/** Lets writes through again on the new databases after a failed drain (fresh sessions: the pause's may be gone). */
async function letWritesThrough(dependencies: RollbackDependencies, links: ReverseLink[]): Promise<void> {
  await settleAll(
    links.map((link) =>
      dependencies.connections.withClient(
        locationOf(link),
        async (client) => {
          // This session started read-only (the database's default now): ALTER DATABASE would be refused.
          await client.query('SET default_transaction_read_only = off');
          await client.query(
            `ALTER DATABASE ${quoteIdentifier(link.database)} RESET default_transaction_read_only`,
          );
        },
        { applicationName: REVERSE_APPLICATION },
      ),
    ),
  );
}

/**
 * Waits until each slot's confirmed position passes the new database's WAL position after the
 * block. A subscription that PostgreSQL disables on the way (a conflict, disable_on_error) ends
 * the wait at once, naming the change that fails.
 */
async function drain(
  dependencies: RollbackDependencies,
  monolith: Client,
  clients: Map<string, Client>,
  links: ReverseLink[],
  onDrained: (link: ReverseLink) => void,
): Promise<void> {
  // The links drain side by side; the first that fails ends the others' wait.
  let failed = false;
  const drained = links.map((link) =>
    (async (client: Client) => {
      const [{ lsn }] = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
        .rows;
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      for (;;) {
        if (failed) return;
        const { rows } = await client.query<{ done: boolean | null }>(
          'SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2',
          [lsn, link.slot],
        );
        if (rows[0]?.done) return onDrained(link);
        if (rows.length === 0)
          throw behind(
            `the slot ${link.slot} on ${link.database} is gone: the monolith cannot be brought level with it`,
          );
        if (!(await enabled(monolith, link.subscription)))
          throw behind(
            `the subscription ${link.subscription} was disabled before the monolith caught up with ${link.database}: ${(await findReverseConflict(dependencies.connections, monolith, link).catch(() => null))?.description ?? 'the server log says why'}. Resolve it, then ${enableHint(dependencies.config.monolithDatabase, link.subscription)}`,
          );
        if (Date.now() > deadline)
          throw behind(
            `the monolith did not confirm ${link.database}'s changes up to ${lsn} within ${DRAIN_TIMEOUT_MS / 1000} s (subscription ${link.subscription})`,
          );
        await sleep(100);
      }
    })(clients.get(link.database) as Client).catch((error: unknown) => {
      failed = true;
      throw error;
    }),
  );
  await settleAll(drained);
}

/** Waits for every one, then throws the first error: nothing is left running behind a failure. */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected) throw rejected.reason;
}

const behind = (message: string) => new RollbackException(RollbackExceptionCode.ReverseSyncBehind, message);

async function enabled(monolith: Client, subscription: string): Promise<boolean> {
  const { rows } = await monolith.query<{ enabled: boolean }>(
    `SELECT subenabled AS enabled FROM pg_subscription
     WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [subscription],
  );
  return rows[0]?.enabled ?? false;
}

/**
 * The tables the levelling may write: the renamed ones and, through foreign keys, every table that
 * references them; null (all of them) when a renamed table has a trigger of its own.
 */
async function touchedByLevelling(client: Client, state: ReverseSyncState): Promise<string[] | null> {
  const legacy = state.shadows.map((shadow) => shadow.legacy);
  if (legacy.length === 0) return [];
  const { rows } = await client.query<{ table: string; triggers: boolean }>(
    `WITH RECURSIVE touched(oid) AS (
       SELECT c.oid FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY($1::text[])
       UNION
       SELECT f.conrelid FROM pg_constraint f JOIN touched t ON f.confrelid = t.oid WHERE f.contype = 'f'
     )
     SELECT c.relname AS table,
            EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal) AS triggers
     FROM touched t JOIN pg_class c ON c.oid = t.oid`,
    [legacy],
  );
  if (rows.some((row) => row.triggers)) return null;
  return [...new Set([...legacy, ...rows.map((row) => row.table)])];
}

async function levelShadows(client: Client, state: ReverseSyncState): Promise<ReverseDrainReport['leveled']> {
  const leveled: ReverseDrainReport['leveled'] = [];
  await client.query('BEGIN');
  try {
    for (const { shadow, legacy, columns } of state.shadows)
      leveled.push({ table: legacy, ...(await levelFromShadow(client, shadow, legacy, columns)) });
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return leveled;
}
