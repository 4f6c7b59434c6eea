import { RunContext } from '../../../common/run/run-context';
import { quoteIdentifier } from '../../../common/identifiers/identifier';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { ONLINE_APPLICATION, onlineNames, removeMonolithObjects } from './monolith-objects';
import { OnlineJournal } from './online-journal';

/**
 * For `db:rollback`: whatever an online split left on the monolith (a slot from a killed run still
 * retaining WAL, the publication, the DDL guard, changed replica identities) is named and dropped,
 * and a monolith an online cutover made read-only for applications is opened again.
 */
export async function dropOnlineLeftovers(
  connections: PostgresConnectionFactory,
  admin: DatabaseAdminService,
  config: MultiTenantDatabaseConfig,
  run: RunContext,
): Promise<void> {
  const monolith = { database: config.monolithDatabase };
  const auth = { database: config.authDatabase };
  const state = (await admin.exists(auth))
    ? await connections
        .withClient(auth, (client) => new OnlineJournal(client).read(), {
          applicationName: ONLINE_APPLICATION,
        })
        .catch(() => null)
    : null;
  if (!(await admin.exists(monolith))) return;
  const names = onlineNames(monolith.database);
  await connections.withClient(
    monolith,
    async (client) => {
      await client.query('SET default_transaction_read_only = off');
      const slot = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [
        names.slot,
      ]);
      if ((slot.rowCount ?? 0) > 0)
        run.info(`Dropping the replication slot ${names.slot} left by an online split.`);
      await removeMonolithObjects(client, names, state?.replicaIdentities ?? []);
      if (state && (state.phase === 'cutover' || state.phase === 'done')) {
        await client.query(
          `ALTER DATABASE ${quoteIdentifier(monolith.database)} RESET default_transaction_read_only`,
        );
        run.info(`${monolith.database} is writable again (the online cutover had made it read-only).`);
      }
    },
    { applicationName: `${ONLINE_APPLICATION}-rollback` },
  );
}
