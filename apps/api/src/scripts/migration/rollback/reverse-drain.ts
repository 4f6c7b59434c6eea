import { Client } from 'pg';
import { quoteIdentifier } from '../../../common/identifiers/identifier';
import { RunContext } from '../../../common/run/run-context';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { OnlineJournal } from '../online/online-journal';
import { levelFromShadow } from '../online/reverse-sync-materials';
import { REVERSE_APPLICATION, ReverseLink, ReverseSyncState } from '../online/reverse-sync-names';
import { stopReverseSync } from '../online/reverse-sync';
import { findReverseConflict } from '../online/reverse-conflict';
import { verifyMonolith } from './monolith-verification';
import { enableHint } from './rollback-messages';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';

/** How long the rollback waits for the monolith to confirm the new databases' last change. */
const DRAIN_TIMEOUT_MS = 120000;

export type ReverseDrainReport = {
  /** From blocking writes on the new databases to the monolith writable again. */
  pauseMs: number;
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
  const started = Date.now();
  if (state.drainedAt) {
    run.info('The reverse sync was drained and verified by an earlier run: taking it down.');
    await stopReverseSync(connections, config, state);
    return { pauseMs: 0, tablesVerified: 0, tablesVerifiedIncrementally: 0, leveled: [] };
  }
  let report: Omit<ReverseDrainReport, 'pauseMs'>;
  try {
    await run.step('block writes on the new databases', () => setWritable(dependencies, state.links, false));
    report = await connections.withClient(
      monolith,
      async (client) => {
        await client.query('SET default_transaction_read_only = off');
        // A disabled subscription is not resumed here: the validation refused it, naming why.
        await run.step('drain the reverse sync', () => drain(dependencies, client, state.links));
        const leveled = await levelShadows(client, state);
        const verified = await run.step('verify the monolith', () =>
          verifyMonolith(connections, monolith, state),
        );
        await client.query(
          `ALTER DATABASE ${quoteIdentifier(monolith.database)} RESET default_transaction_read_only`,
        );
        return {
          leveled,
          tablesVerified: verified.tablesVerified,
          tablesVerifiedIncrementally: verified.incremental,
        };
      },
      { applicationName: REVERSE_APPLICATION },
    );
  } catch (error) {
    await setWritable(dependencies, state.links, true).catch((reopen: unknown) =>
      run.info(
        `Could not let writes through again on ${state.links.map((link) => link.database).join(', ')} (${reopen instanceof Error ? reopen.message : String(reopen)}): run ALTER DATABASE … RESET default_transaction_read_only there.`,
      ),
    );
    throw error;
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

/** The application's sessions are ended so that none keeps writing in a transaction already open. */
async function setWritable(
  dependencies: RollbackDependencies,
  links: ReverseLink[],
  writable: boolean,
): Promise<void> {
  // All at once: each database's statements are independent, and the pause runs meanwhile.
  await settleAll(
    links.map((link) =>
      dependencies.connections.withClient(
        locationOf(link),
        async (client) => {
          const name = quoteIdentifier(link.database);
          if (writable) {
            // This session started read-only (the database's default now): ALTER DATABASE would be refused.
            await client.query('SET default_transaction_read_only = off');
            await client.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
            return;
          }
          await client.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
          await client.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
            [link.database],
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
  links: ReverseLink[],
): Promise<void> {
  // The links drain side by side; the first that fails ends the others' wait.
  let failed = false;
  const drained = links.map((link) =>
    dependencies.connections
      .withClient(
        locationOf(link),
        async (client) => {
          const [{ lsn }] = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))
            .rows;
          const deadline = Date.now() + DRAIN_TIMEOUT_MS;
          for (;;) {
            if (failed) return;
            const { rows } = await client.query<{ done: boolean | null }>(
              'SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2',
              [lsn, link.slot],
            );
            if (rows[0]?.done) return;
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
        },
        { applicationName: REVERSE_APPLICATION },
      )
      .catch((error: unknown) => {
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
