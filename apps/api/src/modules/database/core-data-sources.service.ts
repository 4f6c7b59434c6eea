import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTH_ENTITIES, EntityList, SHARED_ENTITIES } from '../../database/entities/entity-lists';
import { createDataSource } from './data-source.factory';
import { DatabaseConfigService } from './database-config.service';
import { translateDatabaseError } from './database.exception';
import { PostgresConnectionFactory } from './postgres-connection.factory';

/**
 * The AUTH and SHARED DataSources, opened on first use so the CLI starts (and `migrate` can create
 * those databases) when they do not exist yet. Concurrent first calls share one initialisation.
 */
@Injectable()
export class CoreDataSourcesService implements OnModuleDestroy {
  #pending = new Map<'auth' | 'shared', Promise<DataSource>>();

  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  auth(): Promise<DataSource> {
    return this.open('auth', this.configService.config.authDatabase, AUTH_ENTITIES);
  }

  shared(): Promise<DataSource> {
    return this.open('shared', this.configService.config.sharedDatabase, SHARED_ENTITIES);
  }

  private open(kind: 'auth' | 'shared', database: string, entities: EntityList): Promise<DataSource> {
    let pending = this.#pending.get(kind);
    if (!pending) {
      const dataSource = createDataSource(
        this.connections,
        { database },
        {
          poolSize: this.configService.config.poolSize,
          entities,
          applicationName: `topsteel-${kind}`,
        },
      );
      pending = dataSource.initialize().catch((error: unknown) => {
        this.#pending.delete(kind);
        throw translateDatabaseError(error, this.connections.describe({ database }));
      });
      this.#pending.set(kind, pending);
    }
    return pending;
  }

  async close(): Promise<void> {
    const open = [...this.#pending.values()];
    this.#pending.clear();
    await Promise.all(
      open.map(async (pending) => {
        const dataSource = await pending.catch(() => undefined);
        if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
      }),
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
