import { Global, Module } from '@nestjs/common';
import { DatabaseAdminService } from './database-admin.service';
import { DatabaseConfigService } from './database-config.service';
import { MigrationLockService } from './migration-lock.service';
import { PostgresConnectionFactory } from './postgres-connection.factory';
import { SchemaMigrationService } from './schema-migration.service';

const PROVIDERS = [
  DatabaseConfigService,
  PostgresConnectionFactory,
  DatabaseAdminService,
  MigrationLockService,
  SchemaMigrationService,
];

/**
 * The part of the data layer that speaks plain `pg`: configuration, short connections,
 * administration, the migration lock and the schema migrations' bookkeeping. It loads no TypeORM
 * (SchemaMigrationService loads it only to run migrations), so a command that needs nothing more,
 * like `db:status`, starts without building any entity metadata. DatabaseMultiTenantModule adds the
 * named TypeORM connections and the tenant DataSource cache on top of it.
 */
@Global()
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class DatabaseCoreModule {}
