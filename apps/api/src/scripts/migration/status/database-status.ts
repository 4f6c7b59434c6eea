import { DatabaseAdminService, DatabaseInfo } from '../../../modules/database/database-admin.service';
import { isOurs } from '../../../modules/database/ownership-marker';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { RollbackState } from '../rollback/rollback-state';
import { elsewhere, ExpectedDatabase } from './expected-databases';

export type DatabaseStatus = {
  name: string;
  kind: SchemaKind;
  societe: string | null;
  exists: boolean;
  ownedByTool: boolean;
  sizeBytes: number | null;
  connections: number;
  appliedMigrations: number | null;
  pendingMigrations: string[] | null;
  /** Exists but refuses connections (ALLOW_CONNECTIONS false), e.g. left so by an interrupted rollback. */
  closed?: boolean;
  /** Why it is closed, when the rollback record says it closed it. */
  closedBy?: string;
  error?: string;
};

type Services = {
  connections: PostgresConnectionFactory;
  admin: DatabaseAdminService;
  schemaMigrations: SchemaMigrationService;
  /** Whose marker counts as ours (ownership-marker). */
  authDatabase: string;
};

/** One database as status shows it: size and connections from the catalogue, migrations from inside it. */
export async function databaseStatus(
  services: Services,
  [name, where]: [string, ExpectedDatabase],
  info: DatabaseInfo | undefined,
  rollback: RollbackState | null,
): Promise<DatabaseStatus> {
  const status: DatabaseStatus = {
    name,
    kind: where.kind,
    societe: where.societe,
    exists: elsewhere(where)
      ? await services.admin.exists({
          database: name,
          server: where.server,
          host: where.host,
          port: where.port,
        })
      : info !== undefined,
    ownedByTool: isOurs(info?.comment, services.authDatabase),
    sizeBytes: info?.sizeBytes ?? null,
    connections: info?.connections ?? 0,
    appliedMigrations: null,
    pendingMigrations: null,
  };
  if (info && !info.acceptsConnections) {
    status.closed = true;
    if (rollback?.closedDoors.includes(name))
      status.closedBy = 'an interrupted rollback: run npm run db:rollback to finish it';
    return status;
  }
  if (!status.exists) return status;
  try {
    await services.connections.withClient(
      { database: name, server: where.server, host: where.host, port: where.port },
      async (client) => {
        status.appliedMigrations = (await services.schemaMigrations.appliedWith(client)).length;
        status.pendingMigrations = await services.schemaMigrations.pendingWith(client, where.kind);
      },
    );
  } catch (error) {
    status.error = error instanceof Error ? error.message : String(error);
  }
  return status;
}

/** A database whose status could not even be read. */
export function unreadableStatus([name, where]: [string, ExpectedDatabase], reason: unknown): DatabaseStatus {
  return {
    name,
    kind: where.kind,
    societe: where.societe,
    exists: false,
    ownedByTool: false,
    sizeBytes: null,
    connections: 0,
    appliedMigrations: null,
    pendingMigrations: null,
    error: reason instanceof Error ? reason.message : String(reason),
  };
}
