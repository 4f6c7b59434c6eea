import { TypeOrmModuleAsyncOptions, TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  AUTH_ENTITIES,
  EntityList,
  MONOLITH_ENTITIES,
  SHARED_ENTITIES,
  TENANT_ENTITIES,
} from '../../database/entities/entity-lists';
import { baseDataSourceOptions } from './data-source.factory';

/**
 * The DataSources DatabaseMultiTenantModule registers by name, injectable with
 * `@InjectDataSource('auth')` or `@InjectRepository(UserEntity, 'auth')`. `tenant` is the default
 * société's database (for code that is not tenant-aware yet); other sociétés' databases come only
 * from the bounded cache behind TenantAccessService. `monolith` serves the app in DB_MODE=monolith.
 */
export type ConnectionName = 'auth' | 'shared' | 'tenant' | 'monolith';

export const CONNECTION_NAMES: readonly ConnectionName[] = ['auth', 'shared', 'tenant', 'monolith'];

const ENTITIES: Record<ConnectionName, EntityList> = {
  auth: AUTH_ENTITIES,
  shared: SHARED_ENTITIES,
  tenant: TENANT_ENTITIES,
  monolith: MONOLITH_ENTITIES,
};

/**
 * Options for `TypeOrmModule.forRootAsync`. At bootstrap they name the entities and nothing else:
 * no host, database or password, because the configuration is read on first use (a broken .env must
 * not stop `--help`), and `manualInitialization` because @nestjs/typeorm would otherwise connect
 * while Nest bootstraps (retrying 9 times, 3 s apart). ConnectionOpenerService fills in the
 * connection settings and connects on first use (docs/architecture.md, "Data layer: @nestjs/typeorm").
 */
export function namedConnection(name: ConnectionName): TypeOrmModuleAsyncOptions {
  return {
    name,
    useFactory: (): TypeOrmModuleOptions => ({
      ...baseDataSourceOptions({ entities: ENTITIES[name] }),
      // Repeated here because @nestjs/typeorm's shutdown hook finds the DataSource by the name in
      // these options, not by the registration's name.
      name,
      manualInitialization: true,
    }),
  };
}
