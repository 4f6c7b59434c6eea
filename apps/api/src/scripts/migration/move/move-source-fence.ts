import { quoteIdentifier, safeIdentifier } from '../../../common/identifiers/identifier';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';

/**
 * Blocks writes on the database being moved: new sessions start read-only (a database default, so it
 * survives a kill -9 of the move) and the sessions already open (the app's pools) are ended. The
 * move's own readers do not need to write; the undo resets the default.
 */
export async function fenceSource(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  maintenanceDatabase: string,
): Promise<void> {
  const name = safeIdentifier(location.database, 'database name');
  await connections.withClient(
    { ...location, database: maintenanceDatabase },
    async (client) => {
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} SET default_transaction_read_only = on`);
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    },
    { applicationName: 'topsteel-move-fence' },
  );
}

export async function unfenceSource(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  maintenanceDatabase: string,
): Promise<void> {
  const name = safeIdentifier(location.database, 'database name');
  await connections.withClient(
    { ...location, database: maintenanceDatabase },
    async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 1)
        await client.query(`ALTER DATABASE ${quoteIdentifier(name)} RESET default_transaction_read_only`);
    },
    { applicationName: 'topsteel-move-fence' },
  );
}

/** The marker a move writes on the database it creates: only that move (its id) may drop it again. */
export const moveMarkerNote = (code: string, moveId: string): string => `tenant ${code} move=${moveId}`;

export const createdByMove = (comment: string | null, moveId: string): boolean =>
  comment !== null && comment.split(/\s+/).includes(`move=${moveId}`);
