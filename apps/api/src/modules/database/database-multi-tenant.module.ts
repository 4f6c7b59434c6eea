import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionOpenerService } from './connection-opener.service';
import { DatabaseAdminService } from './database-admin.service';
import { DatabaseConfigService } from './database-config.service';
import { MigrationLockService } from './migration-lock.service';
import { namedConnection } from './named-connections';
import { PostgresConnectionFactory } from './postgres-connection.factory';
import { SchemaMigrationService } from './schema-migration.service';
import { TenantDataSourceProvider } from './tenant-data-source.provider';

const PROVIDERS = [
  DatabaseConfigService,
  PostgresConnectionFactory,
  DatabaseAdminService,
  MigrationLockService,
  SchemaMigrationService,
  ConnectionOpenerService,
  TenantDataSourceProvider,
];

/**
 * The data layer shared by the HTTP app and the CLI: configuration, the named connections, the
 * tenant DataSource cache for every other société, database administration, schema migrations and
 * the migration lock. The named connections are @nestjs/typeorm `TypeOrmModule.forRootAsync`
 * registrations: `auth`, `shared`, `tenant` (the default société's database) and `monolith`
 * (DB_MODE=monolith). Nothing here connects at start-up: ConnectionOpenerService connects a named
 * DataSource on its first use.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync(namedConnection('auth')),
    TypeOrmModule.forRootAsync(namedConnection('shared')),
    TypeOrmModule.forRootAsync(namedConnection('tenant')),
    TypeOrmModule.forRootAsync(namedConnection('monolith')),
  ],
  providers: PROVIDERS,
  exports: PROVIDERS,
})
export class DatabaseMultiTenantModule {}
