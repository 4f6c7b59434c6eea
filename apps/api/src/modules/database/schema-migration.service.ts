import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  BUILT_IN_MIGRATIONS,
  MigrationClass,
  migrationName,
  migrationsFor,
  SchemaKind,
} from '../../database/migrations/migration-sets';
import { DatabaseConfigService } from './database-config.service';
import { translateDatabaseError } from './database.exception';
import { MIGRATIONS_TABLE, plainMigrations, runPlainMigrations } from './plain-migration-runner';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

export { MIGRATIONS_TABLE } from './plain-migration-runner';

export type MigrationRunReport = { database: string; kind: SchemaKind; executed: string[] };

/** Applies and reports the TypeORM migrations of AUTH, SHARED and tenant databases. */
@Injectable()
export class SchemaMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  migrations(kind: SchemaKind): MigrationClass[] {
    return migrationsFor(kind, this.configService.config.migrationsExtraDir);
  }

  migrationNames(kind: SchemaKind): string[] {
    return this.migrations(kind).map(migrationName);
  }

  /** Names already applied, read with an existing client (one query, no DataSource). */
  async appliedWith(client: Client): Promise<string[]> {
    const table = await client.query<{ present: boolean }>(
      `SELECT to_regclass('public.${MIGRATIONS_TABLE}') IS NOT NULL AS present`,
    );
    if (!table.rows[0].present) return [];
    const result = await client.query<{ name: string }>(
      `SELECT name FROM public.${MIGRATIONS_TABLE} ORDER BY id`,
    );
    return result.rows.map((row) => row.name);
  }

  async pendingWith(client: Client, kind: SchemaKind): Promise<string[]> {
    const applied = new Set(await this.appliedWith(client));
    return this.migrationNames(kind).filter((name) => !applied.has(name));
  }

  async pending(location: DatabaseLocation, kind: SchemaKind): Promise<string[]> {
    return this.connections.withClient(location, (client) => this.pendingWith(client, kind), {
      applicationName: 'topsteel-migrations',
    });
  }

  /**
   * Runs every pending migration of one database in a single transaction: all or nothing. The
   * tool's own migrations run over one plain `pg` session; an operator's extra ones through TypeORM.
   */
  async run(location: DatabaseLocation, kind: SchemaKind): Promise<MigrationRunReport> {
    const plain = plainMigrations(this.migrations(kind), BUILT_IN_MIGRATIONS);
    if (plain) {
      const executed = await this.connections
        .withClient(location, (client) => runPlainMigrations(client, plain), {
          applicationName: `topsteel-migrate-${kind}`,
        })
        .catch((error: unknown) => {
          throw translateDatabaseError(error, this.connections.describe(location));
        });
      return { database: location.database, kind, executed };
    }
    return this.withDataSource(location, kind, async (dataSource) => {
      const executed = await dataSource.runMigrations({ transaction: 'all' });
      return { database: location.database, kind, executed: executed.map((migration) => migration.name) };
    });
  }

  /** Reverts every applied migration, newest first (used by tests and by `down` checks). */
  async revertAll(location: DatabaseLocation, kind: SchemaKind): Promise<string[]> {
    return this.withDataSource(location, kind, async (dataSource) => {
      const reverted: string[] = [];
      for (;;) {
        const before = await dataSource.query<{ name: string }[]>(
          `SELECT name FROM public.${MIGRATIONS_TABLE} ORDER BY id DESC LIMIT 1`,
        );
        if (before.length === 0) return reverted;
        await dataSource.undoLastMigration({ transaction: 'all' });
        reverted.push(before[0].name);
      }
    });
  }

  private async withDataSource<T>(
    location: DatabaseLocation,
    kind: SchemaKind,
    work: (dataSource: DataSource) => Promise<T>,
  ): Promise<T> {
    // TypeORM is loaded only to run or revert migrations: reading which ones are pending (db:status)
    // needs one query, and loading TypeORM would double that command's start-up.
    const { createDataSource, destroyDataSource } =
      require('./data-source.factory') as typeof import('./data-source.factory');
    const dataSource = createDataSource(this.connections, location, {
      poolSize: 1,
      applicationName: `topsteel-migrate-${kind}`,
      migrations: this.migrations(kind),
    });
    try {
      // TypeORM's pool does not retry a connect the server turned away for a moment; the factory does.
      await this.connections.withClient(location, () => Promise.resolve(), {
        applicationName: `topsteel-migrate-${kind}`,
      });
      await dataSource.initialize();
      return await work(dataSource);
    } catch (error) {
      throw translateDatabaseError(error, this.connections.describe(location));
    } finally {
      await destroyDataSource(dataSource).catch(() => undefined);
    }
  }
}
