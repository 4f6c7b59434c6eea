import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MONOLITH_ENTITIES } from '../../database/entities/entity-lists';
import { CoreDataSourcesService } from '../database/core-data-sources.service';
import { createDataSource } from '../database/data-source.factory';
import { DatabaseConfigService } from '../database/database-config.service';
import { translateDatabaseError } from '../database/database.exception';
import { PostgresConnectionFactory } from '../database/postgres-connection.factory';

/** Which databases the app reads: the split ones, or the monolith after a rollback (no code edit). */
export type DataMode = 'monolith' | 'multi-tenant';

export const DATA_MODE = Symbol('DATA_MODE');

/** In monolith mode the whole monolith plays the one société named by DEFAULT_SOCIETE_CODE. */
export type MonolithSociete = { societeId: null; code: string; nom: string };

/**
 * Where the app's data lives in the configured mode: AUTH/SHARED/tenants after the split, or the
 * monolith (DB_MODE=monolith) so that a rollback needs no code edit. The monolith DataSource opens
 * on first use, like the others, and only in monolith mode.
 */
@Injectable()
export class DataModeService implements OnModuleDestroy {
  #monolith?: Promise<DataSource>;

  constructor(
    @Inject(DATA_MODE) readonly mode: DataMode,
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly core: CoreDataSourcesService,
  ) {}

  get isMonolith(): boolean {
    return this.mode === 'monolith';
  }

  /** The database holding `users`. */
  users(): Promise<DataSource> {
    return this.isMonolith ? this.monolith() : this.core.auth();
  }

  /** The database holding the shared reference data. */
  shared(): Promise<DataSource> {
    return this.isMonolith ? this.monolith() : this.core.shared();
  }

  monolithSociete(): MonolithSociete {
    const config = this.configService.config;
    return { societeId: null, code: config.defaultSocieteCode.toUpperCase(), nom: config.defaultSocieteName };
  }

  monolith(): Promise<DataSource> {
    if (!this.#monolith) {
      const location = { database: this.configService.config.monolithDatabase };
      const dataSource = createDataSource(this.connections, location, {
        poolSize: this.configService.config.poolSize,
        entities: MONOLITH_ENTITIES,
        applicationName: 'topsteel-monolith',
      });
      this.#monolith = dataSource.initialize().catch((error: unknown) => {
        this.#monolith = undefined;
        throw translateDatabaseError(error, this.connections.describe(location));
      });
    }
    return this.#monolith;
  }

  async onModuleDestroy(): Promise<void> {
    const pending = this.#monolith;
    this.#monolith = undefined;
    const dataSource = await pending?.catch(() => undefined);
    if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
  }
}
