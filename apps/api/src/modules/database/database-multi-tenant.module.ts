import { Global, Module } from '@nestjs/common';
import { CoreDataSourcesService } from './core-data-sources.service';
import { DatabaseAdminService } from './database-admin.service';
import { DatabaseConfigService } from './database-config.service';
import { MigrationLockService } from './migration-lock.service';
import { PostgresConnectionFactory } from './postgres-connection.factory';
import { SchemaMigrationService } from './schema-migration.service';
import { TenantDataSourceProvider } from './tenant-data-source.provider';

const PROVIDERS = [
  DatabaseConfigService,
  PostgresConnectionFactory,
  DatabaseAdminService,
  MigrationLockService,
  SchemaMigrationService,
  CoreDataSourcesService,
  TenantDataSourceProvider,
];

/**
 * The data layer shared by the HTTP app and the CLI: configuration, connections, AUTH/SHARED
 * DataSources, the tenant DataSource cache, database administration, schema migrations and the
 * migration lock. Nothing here connects at start-up.
 */
@Global()
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class DatabaseMultiTenantModule {}
