import {
  DataSource,
  DataSourceOptions as TypeormDataSourceOptions,
  Logger as TypeormLogger,
  MigrationInterface,
} from 'typeorm';
import { redactSecrets } from '../../common/secrets/secret';
import { EntityList } from '../../database/entities/entity-lists';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

/** TypeORM's options for PostgreSQL. */
export type PostgresConnectionOptions = Extract<TypeormDataSourceOptions, { type: 'postgres' }>;

export type DataSourceOptions = {
  poolSize: number;
  applicationName: string;
  entities?: EntityList;
  migrations?: (new () => MigrationInterface)[];
  idleTimeoutMs?: number;
};

/**
 * TypeORM prints migration events on stdout whatever `logging` says, which would break the single
 * JSON document of --json. Our commands report outcomes themselves; warnings go to stderr.
 */
export class QuietTypeormLogger implements TypeormLogger {
  logQuery(): void {}
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') process.stderr.write(`${redactSecrets(String(message))}\n`);
  }
}

/**
 * Connection settings of one database, from the validated configuration. The password travels only
 * in this object (never in a URL, a log line or an error).
 */
export function postgresConnectionSettings(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  options: Pick<DataSourceOptions, 'poolSize' | 'applicationName' | 'idleTimeoutMs'>,
): PostgresConnectionOptions {
  const client = connections.clientConfig(location, { applicationName: options.applicationName });
  return {
    type: 'postgres',
    host: client.host,
    port: client.port,
    username: client.user,
    password: typeof client.password === 'string' ? client.password : undefined,
    database: location.database,
    ssl: client.ssl === undefined ? undefined : (client.ssl as boolean | { rejectUnauthorized: boolean }),
    extra: {
      max: options.poolSize,
      connectionTimeoutMillis: client.connectionTimeoutMillis,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30000,
      application_name: client.application_name,
    },
  };
}

/** What every DataSource of ours shares: no synchronize, no automatic migrations, the quiet logger. */
export function baseDataSourceOptions(
  options: Pick<DataSourceOptions, 'entities' | 'migrations'>,
): PostgresConnectionOptions {
  return {
    type: 'postgres',
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    logger: new QuietTypeormLogger(),
  };
}

/** One TypeORM DataSource on one database, configured from the validated configuration. Not initialised. */
export function createDataSource(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  options: DataSourceOptions,
): DataSource {
  return new DataSource({
    ...baseDataSourceOptions(options),
    ...postgresConnectionSettings(connections, location, options),
  });
}
