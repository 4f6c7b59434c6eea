import { DataSource, MigrationInterface } from 'typeorm';
import { EntityList } from '../../database/entities';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

export type DataSourceOptions = {
  poolSize: number;
  applicationName: string;
  entities?: EntityList;
  migrations?: (new () => MigrationInterface)[];
  idleTimeoutMs?: number;
};

/** One TypeORM DataSource on one database, configured from the validated configuration. Not initialised. */
export function createDataSource(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  options: DataSourceOptions,
): DataSource {
  const client = connections.clientConfig(location, { applicationName: options.applicationName });
  return new DataSource({
    type: 'postgres',
    host: client.host,
    port: client.port,
    username: client.user,
    password: typeof client.password === 'string' ? client.password : undefined,
    database: location.database,
    ssl: client.ssl === undefined ? undefined : (client.ssl as boolean | { rejectUnauthorized: boolean }),
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      max: options.poolSize,
      connectionTimeoutMillis: client.connectionTimeoutMillis,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30000,
      application_name: client.application_name,
    },
  });
}
