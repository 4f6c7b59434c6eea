import { DataSource, Logger as TypeormLogger, MigrationInterface } from 'typeorm';
import { redactSecrets } from '../../common/secrets/secret';
import { EntityList } from '../../database/entities/entity-lists';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

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
    logger: new QuietTypeormLogger(),
    extra: {
      max: options.poolSize,
      connectionTimeoutMillis: client.connectionTimeoutMillis,
      idleTimeoutMillis: options.idleTimeoutMs ?? 30000,
      application_name: client.application_name,
    },
  });
}
