import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, ObjectLiteral, Repository } from 'typeorm';
import { tenantDatabaseName } from '../../database/config/multi-tenant-database.config';
import { DataSourceOptions, postgresConnectionSettings } from './data-source.factory';
import { DatabaseConfigService } from './database-config.service';
import { translateDatabaseError } from './database.exception';
import { ConnectionName } from './named-connections';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

type ConnectionSettings = Pick<DataSourceOptions, 'poolSize' | 'applicationName' | 'idleTimeoutMs'> & {
  location: DatabaseLocation;
};

/**
 * Connects the named DataSources on first use. @nestjs/typeorm creates them at bootstrap without
 * connecting (manualInitialization); a service awaits `ready(repository)` or `open(name)` before
 * its first query, so `--help`, `db:backup` or `db:audit` never touch AUTH, and `tenant` is not
 * opened before the split created it. Concurrent first calls share one connection attempt; a
 * failed attempt is forgotten so that the next call tries again.
 */
@Injectable()
export class ConnectionOpenerService implements OnModuleDestroy {
  readonly #dataSources: ReadonlyMap<ConnectionName, DataSource>;
  readonly #opening = new Map<ConnectionName, Promise<DataSource>>();

  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    @InjectDataSource('auth') auth: DataSource,
    @InjectDataSource('shared') shared: DataSource,
    @InjectDataSource('tenant') tenant: DataSource,
    @InjectDataSource('monolith') monolith: DataSource,
  ) {
    this.#dataSources = new Map([
      ['auth', auth],
      ['shared', shared],
      ['tenant', tenant],
      ['monolith', monolith],
    ]);
  }

  /** The named DataSource, connected. */
  open(name: ConnectionName): Promise<DataSource> {
    let pending = this.#opening.get(name);
    if (!pending) {
      pending = this.connect(name).catch((error: unknown) => {
        this.#opening.delete(name);
        throw error;
      });
      this.#opening.set(name, pending);
    }
    return pending;
  }

  /** An injected DataSource or repository, once its DataSource is connected. */
  async ready<T extends DataSource | Repository<ObjectLiteral>>(target: T): Promise<T> {
    const dataSource = target instanceof DataSource ? target : target.manager.dataSource;
    const name = [...this.#dataSources].find(([, candidate]) => candidate === dataSource)?.[0];
    if (!name) throw new Error('not a DataSource registered by DatabaseMultiTenantModule');
    await this.open(name);
    return target;
  }

  /** The named DataSources connected so far. */
  opened(): ConnectionName[] {
    return [...this.#dataSources].filter(([, dataSource]) => dataSource.isInitialized).map(([name]) => name);
  }

  async close(): Promise<void> {
    const opening = [...this.#opening.values()];
    this.#opening.clear();
    await Promise.all(
      opening.map(async (pending) => {
        const dataSource = await pending.catch(() => undefined);
        if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private async connect(name: ConnectionName): Promise<DataSource> {
    const dataSource = this.#dataSources.get(name) as DataSource;
    const { location, ...options } = this.settings(name);
    try {
      // setOptions is TypeORM's public way to complete options before initialize(); the driver
      // reads host, credentials and pool settings from the same options object when it connects.
      dataSource.setOptions(postgresConnectionSettings(this.connections, location, options));
      return await dataSource.initialize();
    } catch (error) {
      throw translateDatabaseError(error, this.connections.describe(location));
    }
  }

  private settings(name: ConnectionName): ConnectionSettings {
    const config = this.configService.config;
    switch (name) {
      case 'auth':
        return {
          location: { database: config.authDatabase },
          poolSize: config.poolSize,
          applicationName: 'topsteel-auth',
        };
      case 'shared':
        return {
          location: { database: config.sharedDatabase },
          poolSize: config.poolSize,
          applicationName: 'topsteel-shared',
        };
      case 'tenant':
        return {
          location: { database: tenantDatabaseName(config, config.defaultSocieteCode) },
          poolSize: config.tenantPoolSize,
          applicationName: 'topsteel-tenant',
          idleTimeoutMs: Math.min(config.tenantIdleTimeoutMs, 30000),
        };
      case 'monolith':
        return {
          location: { database: config.monolithDatabase },
          poolSize: config.poolSize,
          applicationName: 'topsteel-monolith',
        };
    }
  }
}
