import { Client } from 'pg';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';

/**
 * A REPEATABLE READ snapshot exported by one session and imported by others (pg_export_snapshot):
 * pg_dump, checksum workers and copy workers then all see exactly the same data. The exporting
 * session must stay open, idle in its transaction, until every importer has started.
 */
export class ExportedSnapshot {
  private constructor(
    readonly id: string,
    private readonly owner: Client,
    private readonly connections: PostgresConnectionFactory,
    readonly location: DatabaseLocation,
    private readonly readOnly: boolean,
  ) {}

  static async open(
    connections: PostgresConnectionFactory,
    location: DatabaseLocation,
    options: { applicationName: string; readOnly?: boolean; importSnapshot?: string },
  ): Promise<ExportedSnapshot> {
    const readOnly = options.readOnly ?? true;
    const owner = await connections.connect(location, { applicationName: options.applicationName, readOnly });
    try {
      await owner.query(`BEGIN ISOLATION LEVEL REPEATABLE READ${readOnly ? ', READ ONLY' : ''}`);
      // The online split's slot exports a snapshot that lives only until its connection's next
      // command: adopted here first, then exported again, so the workers join a session we hold.
      if (options.importSnapshot)
        await owner.query(`SET TRANSACTION SNAPSHOT '${options.importSnapshot.replace(/'/g, "''")}'`);
      const result = await owner.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      return new ExportedSnapshot(result.rows[0].id, owner, connections, location, readOnly);
    } catch (error) {
      await owner.end().catch(() => undefined);
      throw error;
    }
  }

  /** A session that sees the snapshot, with deterministic text output (for checksums). */
  join(applicationName: string): Promise<Client> {
    return joinSnapshot(this.connections, this.location, this.id, {
      applicationName,
      readOnly: this.readOnly,
    });
  }

  /** The exporting session itself, usable for queries in the snapshot. */
  get client(): Client {
    return this.owner;
  }

  async close(): Promise<void> {
    await this.owner.query('ROLLBACK').catch(() => undefined);
    await this.owner.end().catch(() => undefined);
  }
}

export async function releaseClients(clients: Client[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    }),
  );
}

/**
 * A new session on `location` reading in the exported snapshot `id` (its exporting session must
 * stay open until this returns), with deterministic text output (for checksums).
 */
export async function joinSnapshot(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  id: string,
  options: { applicationName: string; readOnly: boolean },
): Promise<Client> {
  const client = await connections.connect(location, options);
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ${options.readOnly ? ', READ ONLY' : ''}`);
    await client.query(`SET TRANSACTION SNAPSHOT '${id.replace(/'/g, "''")}'`);
    await client.query(DETERMINISTIC_SESSION_SETTINGS);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
