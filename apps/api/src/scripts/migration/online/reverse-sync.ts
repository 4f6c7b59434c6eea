import { Client } from 'pg';
import { quoteIdentifier, quoteLiteral, quoteQualified } from '../../../common/identifiers/identifier';
import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { CopyTask } from '../plan/resolved-plan.types';
import { dropSlot } from './monolith-objects';
import { OnlineDependencies } from './online-dependencies';
import { OnlineJournal } from './online-journal';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';
import { createShadow, dropShadow } from './reverse-sync-materials';
import {
  REVERSE_APPLICATION,
  ReverseLink,
  reverseNames,
  ReverseSyncState,
  XidPoint,
} from './reverse-sync-names';

const KINDS: SchemaKind[] = ['auth', 'shared', 'tenant'];

/** pg_subscription is shared by the cluster: a name is only ours in the current database. */
const SUBSCRIPTION_HERE = `SELECT 1 FROM pg_subscription
  WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`;

/** A conninfo value, quoted as libpq reads it (backslash and quote escaped). */
const conninfoValue = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The connection string the monolith's subscription uses to reach a new database, built from the
 * configuration. It carries the password, so it goes only into CREATE SUBSCRIPTION (PostgreSQL keeps
 * it in pg_subscription, readable by superusers only) and never into a log, report or error.
 */
function conninfo(config: MultiTenantDatabaseConfig, location: DatabaseLocation): string {
  const password = config.password.reveal();
  return [
    `host=${conninfoValue(location.host || config.host)}`,
    `port=${conninfoValue(String(location.port || config.port))}`,
    `user=${conninfoValue(config.username)}`,
    `dbname=${conninfoValue(location.database)}`,
    password === '' ? '' : `password=${conninfoValue(password)}`,
    config.ssl ? `sslmode=${config.ssl.rejectUnauthorized ? 'verify-full' : 'require'}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/**
 * After the cutover: each new database publishes its legacy columns (column lists leave out what
 * the split added: societe_id, expires_at) from a slot created first, and the monolith subscribes
 * without copying (it already holds every row). Nothing flows forward any more, so there is no loop.
 */
export async function startReverseSync(
  connections: PostgresConnectionFactory,
  config: MultiTenantDatabaseConfig,
  context: { tasks: CopyTask[]; locations: Record<SchemaKind, DatabaseLocation>; run: RunContext },
): Promise<ReverseSyncState> {
  const state: ReverseSyncState = {
    links: [],
    identities: [],
    shadows: [],
    startedAt: new Date().toISOString(),
    // Before the first subscription exists: every row it writes into the monolith is younger.
    monolithSince: await connections.withClient({ database: config.monolithDatabase }, readXidPoint, {
      applicationName: REVERSE_APPLICATION,
    }),
  };
  for (const kind of KINDS) {
    const tasks = context.tasks.filter((task) => task.database === kind);
    if (tasks.length === 0) continue;
    const location = context.locations[kind];
    const names = reverseNames(config.monolithDatabase, kind);
    const link: ReverseLink = {
      kind,
      database: location.database,
      host: location.host ?? null,
      port: location.port ?? null,
      ...names,
      tables: tasks.map((task) => ({
        target: task.target,
        source: task.source,
        columns: task.columns.map((column) => column.name),
      })),
    };
    await connections.withClient(
      location,
      async (client) => {
        // Before the slot: a change the slot would miss is then younger and compared in full by the rollback.
        link.since = await readXidPoint(client);
        state.identities.push(...(await publish(client, link, tasks)));
      },
      { applicationName: REVERSE_APPLICATION },
    );
    await connections.withClient(
      { database: config.monolithDatabase },
      async (client) => {
        await client.query('SET default_transaction_read_only = off');
        for (const task of tasks.filter((candidate) => candidate.target !== candidate.source)) {
          const columns = task.columns.map((column) => column.name);
          await createShadow(client, task.target, task.source, columns);
          state.shadows.push({ shadow: task.target, legacy: task.source, columns });
        }
        await subscribe(client, link, conninfo(config, location));
      },
      { applicationName: REVERSE_APPLICATION },
    );
    state.links.push(link);
    context.run.info(
      `Reverse sync: ${location.database} -> ${config.monolithDatabase} (${tasks.length} tables).`,
    );
  }
  return state;
}

/**
 * The oldest transaction still running on the server (64-bit, so it survives a wraparound): every
 * row with an older xmin was committed before now. Read-only, so it works on the read-only monolith.
 */
export async function readXidPoint(client: Client): Promise<XidPoint> {
  const { rows } = await client.query<XidPoint>(
    `SELECT txid_snapshot_xmin(txid_current_snapshot())::text AS xid,
            to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
  );
  return rows[0];
}

async function publish(
  client: Client,
  link: ReverseLink,
  tasks: CopyTask[],
): Promise<{ database: string; table: string }[]> {
  const keyless = await client.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname = ANY($1) AND c.relreplident = 'd'
       AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)`,
    [link.tables.map((table) => table.target)],
  );
  const identities: { database: string; table: string }[] = [];
  for (const { table } of keyless.rows) {
    // Without a key, UPDATE/DELETE on a published table fail for the application: FULL is the identity then.
    await client.query(`ALTER TABLE ${quoteQualified('public', table)} REPLICA IDENTITY FULL`);
    identities.push({ database: link.database, table });
  }
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(link.publication)}`);
  const list = tasks
    .map(
      (task) =>
        `${quoteQualified('public', task.target)} (${task.columns.map((column) => quoteIdentifier(column.name)).join(', ')})`,
    )
    .join(', ');
  await client.query(`CREATE PUBLICATION ${quoteIdentifier(link.publication)} FOR TABLE ${list}`);
  // Created here, not by CREATE SUBSCRIPTION: on the same cluster that waits on itself and hangs.
  await dropSlot(client, link.slot);
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [link.slot]);
  return identities;
}

/**
 * disable_on_error: a conflict (a row the monolith already holds) stops the sync at once and
 * visibly (subenabled false, pg_stat_subscription_stats counts it) instead of retrying forever.
 */
async function subscribe(client: Client, link: ReverseLink, connection: string): Promise<void> {
  const existing = await client.query(SUBSCRIPTION_HERE, [link.subscription]);
  if ((existing.rowCount ?? 0) > 0) await dropSubscription(client, link.subscription);
  try {
    await client.query(
      `CREATE SUBSCRIPTION ${quoteIdentifier(link.subscription)} CONNECTION ${quoteLiteral(connection)}
       PUBLICATION ${quoteIdentifier(link.publication)}
       WITH (create_slot = false, slot_name = ${quoteLiteral(link.slot)}, copy_data = false,
             disable_on_error = true)`,
    );
  } catch (error) {
    // The driver's message never quotes the statement; the password is scrubbed all the same.
    throw new OnlineSplitException(
      OnlineSplitExceptionCode.ReverseSyncFailed,
      `could not subscribe the monolith to ${link.database}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Disable, detach from the slot, drop: the only order that works without reaching the publisher. */
async function dropSubscription(client: Client, subscription: string): Promise<void> {
  const name = quoteIdentifier(subscription);
  await client.query(`ALTER SUBSCRIPTION ${name} DISABLE`);
  await client.query(`ALTER SUBSCRIPTION ${name} SET (slot_name = NONE)`);
  await client.query(`DROP SUBSCRIPTION ${name}`);
}

/**
 * Takes the reverse sync down: the subscriptions in the monolith (the tool's session opts out of
 * the monolith's read-only default), the shadow tables, then each new database's slot and
 * publication and the replica identities set for it. Safe to run again on a partial set-up.
 */
export async function stopReverseSync(
  connections: PostgresConnectionFactory,
  config: MultiTenantDatabaseConfig,
  state: ReverseSyncState,
): Promise<void> {
  await connections.withClient(
    { database: config.monolithDatabase },
    async (client) => {
      await client.query('SET default_transaction_read_only = off');
      for (const link of state.links) {
        const found = await client.query(SUBSCRIPTION_HERE, [link.subscription]);
        if ((found.rowCount ?? 0) > 0) await dropSubscription(client, link.subscription);
      }
      for (const { shadow } of state.shadows) await dropShadow(client, shadow);
    },
    { applicationName: REVERSE_APPLICATION },
  );
  for (const link of state.links) {
    const location = { database: link.database, host: link.host, port: link.port };
    await connections
      .withClient(
        location,
        async (client) => {
          await client.query('SET default_transaction_read_only = off');
          await dropSlot(client, link.slot);
          await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(link.publication)}`);
          for (const identity of state.identities.filter((entry) => entry.database === link.database))
            await client.query(
              `ALTER TABLE IF EXISTS ${quoteQualified('public', identity.table)} REPLICA IDENTITY DEFAULT`,
            );
        },
        { applicationName: REVERSE_APPLICATION },
      )
      .catch(async (error: unknown) => {
        // A database already dropped takes its publication with it; its slot is cluster-wide.
        const gone = await connections.withClient(
          { database: config.maintenanceDatabase },
          async (client) => {
            await dropSlot(client, link.slot);
            return !(await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [link.database]))
              .rowCount;
          },
        );
        if (!gone) throw error;
      });
  }
}

/**
 * Starts the reverse sync at the end of `db:migrate -- --online` and records it in the journal; a
 * failure half-way takes down what was set up (the split stays complete) and says so.
 */
export async function enableReverseSync(
  dependencies: OnlineDependencies,
  context: { tasks: CopyTask[]; locations: Record<SchemaKind, DatabaseLocation>; run: RunContext },
): Promise<{ databases: string[]; slots: string[] }> {
  const { connections, configService, journal } = dependencies;
  const config = configService.config;
  let state: ReverseSyncState | null = null;
  try {
    state = await startReverseSync(connections, config, context);
  } catch (error) {
    await stopReverseSync(connections, config, {
      links: KINDS.map((kind) => {
        const location = context.locations[kind];
        return {
          kind,
          database: location.database,
          host: location.host ?? null,
          port: location.port ?? null,
          ...reverseNames(config.monolithDatabase, kind),
          tables: [],
        };
      }),
      identities: [],
      shadows: context.tasks
        .filter((task) => task.target !== task.source)
        .map((task) => ({ shadow: task.target, legacy: task.source, columns: [] })),
      startedAt: new Date().toISOString(),
    }).catch(() => undefined);
    if (error instanceof OnlineSplitException) throw error;
    throw new OnlineSplitException(
      OnlineSplitExceptionCode.ReverseSyncFailed,
      `the reverse sync could not be set up: ${error instanceof Error ? error.message : String(error)}`,
      {},
      { cause: error },
    );
  }
  const recorded = state;
  await journal.withJournal((repository) => new OnlineJournal(repository.client).setReverseSync(recorded));
  const databases = recorded.links.map((link) => link.database);
  context.run.info(`Reverse sync running: ${databases.join(', ')} flow back into the monolith.`);
  return { databases, slots: recorded.links.map((link) => link.slot) };
}
