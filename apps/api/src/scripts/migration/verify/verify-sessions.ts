import { Client } from 'pg';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { targetHashSessions, verificationReaders } from '../copy/connection-budget.service';
import { ExportedSnapshot, joinSnapshot } from '../snapshot/exported-snapshot';
import type { VerifyOptions } from './split-verifier';

/** `helpers`: more sessions in a target's snapshot, so its tables are hashed two at a time. */
export type Sessions = {
  source: Client[];
  targets: Map<SchemaKind, Client>;
  helpers: Map<SchemaKind, Client[]>;
};

/** One read transaction per target database, and source sessions sharing the snapshot. */
export async function openSessions(
  connections: PostgresConnectionFactory,
  options: VerifyOptions,
  snapshot: ExportedSnapshot | undefined,
  sessions: Sessions,
): Promise<void> {
  for (const kind of Object.keys(options.locations) as SchemaKind[]) {
    const given = options.targetSessions?.get(kind);
    if (given) {
      sessions.targets.set(kind, given);
      continue;
    }
    const client = await connections.connect(options.locations[kind], { applicationName: 'topsteel-verify' });
    sessions.targets.set(kind, client);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await client.query(DETERMINISTIC_SESSION_SETTINGS);
    // The tenant holds the big tables: hashed by one session, they were the verification's tail,
    // one core idle. A second session in the same snapshot, where the copy's workers (now done)
    // left room for it.
    // Registered before they open, so that the caller releases every one that did.
    const helpers: Client[] = [];
    sessions.helpers.set(kind, helpers);
    while (helpers.length + 1 < targetHashSessions(kind, options.jobs))
      helpers.push(await joinTransaction(connections, options.locations[kind], client));
  }
  if (!snapshot) return;
  const sourceCount = verificationReaders(options.jobs);
  for (let index = 0; index < sourceCount; index++)
    sessions.source.push(await snapshot.join('topsteel-verify-source'));
}

/** The target sessions with their helpers, each database's main session first. */
export function withHelpers(sessions: Sessions): Map<SchemaKind, Client[]> {
  return new Map(
    [...sessions.targets].map(([kind, client]) => [kind, [client, ...(sessions.helpers.get(kind) ?? [])]]),
  );
}

/** Another session reading in `main`'s REPEATABLE READ snapshot (exported, then imported). */
async function joinTransaction(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  main: Client,
): Promise<Client> {
  const exported = await main.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
  return joinSnapshot(connections, location, exported.rows[0].id, {
    applicationName: 'topsteel-verify',
    readOnly: false,
  });
}
