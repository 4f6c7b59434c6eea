import { Client, ClientConfig } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';

/** Names of what the online split creates on the monolith's server; the slot's name is cluster-wide. */
export type OnlineNames = { slot: string; publication: string };

export const onlineNames = (monolith: string): OnlineNames => ({
  slot: `topsteel_split_${monolith}`.slice(0, 63),
  publication: 'topsteel_split',
});

/** Sessions the DDL guard lets through: the tool's own (replica identity, clean-up). */
export const ONLINE_APPLICATION = 'topsteel-online';

const GUARD = 'topsteel_split_ddl_guard';
export const DDL_MESSAGE_PREFIX = 'topsteel-ddl';
export const CUTOVER_MESSAGE_PREFIX = 'topsteel-cutover';

/**
 * Prepares the monolith for decoding, in one transaction: REPLICA IDENTITY FULL on the planned
 * tables that have no key (their UPDATE/DELETE would fail on the monolith once published), the
 * publication FOR the planned tables, and an event trigger that refuses DDL while the split runs and
 * tells the follower which statement it was (a non-transactional message survives the refusal).
 */
export async function prepareMonolith(
  client: Client,
  names: OnlineNames,
  tables: string[],
  withoutIdentity: string[],
): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const table of withoutIdentity)
      await client.query(`ALTER TABLE ${quoteQualified('public', table)} REPLICA IDENTITY FULL`);
    const existing = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [
      names.publication,
    ]);
    if (existing.rowCount === 0)
      await client.query(
        `CREATE PUBLICATION ${quoteIdentifier(names.publication)} FOR TABLE ${tables
          .map((table) => quoteQualified('public', table))
          .join(', ')}`,
      );
    await client.query(
      `CREATE OR REPLACE FUNCTION public.${GUARD}() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER
       SET search_path = pg_catalog AS $guard$
       BEGIN
         IF current_setting('application_name') LIKE '${ONLINE_APPLICATION}%' THEN RETURN; END IF;
         PERFORM pg_logical_emit_message(false, '${DDL_MESSAGE_PREFIX}', current_query());
         RAISE EXCEPTION 'schema changes are refused while the online split of this database runs (%)', tg_tag
           USING HINT = 'finish the split (cutover) or roll it back (npm run db:rollback), then retry';
       END $guard$`,
    );
    const trigger = await client.query('SELECT 1 FROM pg_event_trigger WHERE evtname = $1', [GUARD]);
    if (trigger.rowCount === 0)
      await client.query(
        `CREATE EVENT TRIGGER ${GUARD} ON ddl_command_start EXECUTE FUNCTION public.${GUARD}()`,
      );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Removes everything the online split put on the monolith: the DDL guard, the publication, the
 * slot (ending the WAL sender that still holds it), and the replica identities it changed. Safe to
 * run again and on a partial set-up.
 */
export async function removeMonolithObjects(
  client: Client,
  names: OnlineNames,
  replicaIdentities: string[],
): Promise<void> {
  await client.query(`DROP EVENT TRIGGER IF EXISTS ${GUARD}`);
  await client.query(`DROP FUNCTION IF EXISTS public.${GUARD}()`);
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdentifier(names.publication)}`);
  await dropSlot(client, names.slot);
  for (const table of replicaIdentities)
    await client.query(
      `DO $reset$ BEGIN IF to_regclass(${`'${quoteQualified('public', table).replace(/'/g, "''")}'`}) IS NOT NULL THEN
         ALTER TABLE ${quoteQualified('public', table)} REPLICA IDENTITY DEFAULT; END IF; END $reset$`,
    );
}

export async function dropSlot(client: Client, slot: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await client.query<{ pid: number | null }>(
      'SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    if (found.rowCount === 0) return;
    const pid = found.rows[0].pid;
    if (pid === null) {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return;
    }
    // A WAL sender left by a killed run still holds the slot until the server notices.
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Frees a slot still held by the WAL sender of a run that was killed (the server notices the dead
 * client only later), so that this run can stream from it. The migration lock says no live run owns it.
 */
export async function releaseSlot(client: Client, slot: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = await client.query<{ pid: number | null }>(
      'SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    const pid = found.rows[0]?.pid ?? null;
    if (pid === null) return;
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function slotExists(client: Client, slot: string): Promise<boolean> {
  const found = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return (found.rowCount ?? 0) > 0;
}

export type CreatedSlot = { consistentPoint: string; snapshotName: string; connection: Client };

/**
 * Creates the logical slot over a replication connection and keeps that connection open and idle:
 * the exported snapshot lives only until it runs another command, so the caller imports it first.
 */
export async function createSlot(config: ClientConfig, slot: string): Promise<CreatedSlot> {
  const connection = new Client({ ...config, replication: 'database' } as ClientConfig);
  connection.on('error', () => undefined);
  await connection.connect();
  try {
    const result = await connection.query<{ consistent_point: string; snapshot_name: string }>(
      `CREATE_REPLICATION_SLOT ${quoteIdentifier(slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    return {
      consistentPoint: result.rows[0].consistent_point,
      snapshotName: result.rows[0].snapshot_name,
      connection,
    };
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw error;
  }
}
