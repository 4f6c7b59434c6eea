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

/** The part of pg's Pool that tells when a connection is really closed. */
type ClosablePool = {
  totalCount: number;
  on(event: 'remove', listener: () => void): unknown;
  off(event: 'remove', listener: () => void): unknown;
};

/** Longest wait for the server to close a destroyed DataSource's connections. */
const CLOSE_WAIT_MS = 5000;

/**
 * Destroys a DataSource and waits until the server has closed its connections. pg-pool's `end()`
 * resolves as soon as it has asked each client to end, before the sockets close: a caller that
 * counts connections per server (TENANT_SERVER_MAX_CONNECTIONS) would open the next one while the
 * server still holds the old one, and the server would see one more than the cap.
 */
export async function destroyDataSource(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) return;
  const pool = (dataSource.driver as unknown as { master?: ClosablePool }).master;
  let open = pool?.totalCount ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let listener: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => {
    if (!pool || open === 0) return resolve();
    listener = () => {
      open -= 1;
      if (open <= 0) resolve();
    };
    pool.on('remove', listener);
    timer = setTimeout(resolve, CLOSE_WAIT_MS);
  });
  try {
    await dataSource.destroy();
    await closed;
  } finally {
    clearTimeout(timer);
    if (pool && listener) pool.off('remove', listener);
  }
}
