import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionOpenerService } from './connection-opener.service';
import { DatabaseCoreModule } from './database-core.module';
import { namedConnection } from './named-connections';
import { TenantDataSourceProvider } from './tenant-data-source.provider';

const PROVIDERS = [ConnectionOpenerService, TenantDataSourceProvider];

/**
 * The data layer shared by the HTTP app and the CLI: configuration, the named connections, the
 * tenant DataSource cache for every other société, database administration, schema migrations and
 * the migration lock. The named connections are @nestjs/typeorm `TypeOrmModule.forRootAsync`
 * registrations: `auth`, `shared`, `tenant` (the default société's database) and `monolith`
 * (DB_MODE=monolith). Nothing here connects at start-up: ConnectionOpenerService connects a named
 * DataSource on its first use. The plain-`pg` services (configuration, connections, admin, lock,
 * schema migrations) come from DatabaseCoreModule, which commands that need no TypeORM import alone.
 */
@Global()
@Module({
  imports: [
    DatabaseCoreModule,
    TypeOrmModule.forRootAsync(namedConnection('auth')),
    TypeOrmModule.forRootAsync(namedConnection('shared')),
    TypeOrmModule.forRootAsync(namedConnection('tenant')),
    TypeOrmModule.forRootAsync(namedConnection('monolith')),
  ],
  providers: PROVIDERS,
  exports: [DatabaseCoreModule, ...PROVIDERS],
})
export class DatabaseMultiTenantModule {}
