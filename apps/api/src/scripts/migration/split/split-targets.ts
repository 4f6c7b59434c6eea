import { hostname } from 'node:os';
import { Client } from 'pg';
import { RunContext } from '../../../cli/runner/command-context';
import { tenantDatabaseName } from '../../../database/config/multi-tenant-database.config';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  CreateDatabaseOptions,
  DatabaseAdminService,
} from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { MigrationJournalService } from '../journal/migration-journal.service';

export type PreparedTargets = {
  locations: Record<SchemaKind, DatabaseLocation>;
  created: { name: string; kind: SchemaKind }[];
  societeId: string;
};

/**
 * Creates what the split writes into, each step idempotent so that a rerun after any crash simply
 * continues: AUTH first with the journal (which then records every other database the tool
 * creates), SHARED, the default société's tenant database, their 001 migrations, and the default
 * société with its default site.
 */
export class SplitTargets {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
  ) {}

  locations(): Record<SchemaKind, DatabaseLocation> {
    const config = this.configService.config;
    return {
      auth: { database: config.authDatabase },
      shared: { database: config.sharedDatabase },
      tenant: { database: tenantDatabaseName(config, config.defaultSocieteCode) },
    };
  }

  async prepare(run: RunContext, monolith: Client): Promise<PreparedTargets> {
    const config = this.configService.config;
    const locations = this.locations();
    const options = await databaseOptions(monolith);
    const created: PreparedTargets['created'] = [];
    for (const kind of ['auth', 'shared', 'tenant'] as const) {
      const location = locations[kind];
      if (!(await this.admin.exists(location))) {
        await run.step(`create ${location.database}`, () =>
          this.createLike(location, { ...options, note: `${kind} run=${run.runId}` }),
        );
        created.push({ name: location.database, kind });
      }
      if (kind === 'auth') {
        // From here on the journal exists: the run and the split are on record before anything else is created.
        await this.journal.withJournal(async (journal) => {
          await journal.startRun(run.runId, run.command, hostname(), process.pid);
          const split = await journal.split();
          await journal.saveSplit({
            status: 'in_progress',
            sourceDatabase: config.monolithDatabase,
            runId: run.runId,
            societeId: split?.societeId,
          });
        });
      }
      await this.journal.withJournal((journal) =>
        journal.recordDatabase({
          name: location.database,
          kind,
          societeCode: kind === 'tenant' ? config.defaultSocieteCode.toUpperCase() : null,
          host: null,
          port: null,
          createdByRun: run.runId,
        }),
      );
      const report = await run.step(`migrate ${location.database}`, () =>
        this.schemaMigrations.run(location, kind),
      );
      if (report.executed.length > 0)
        run.info(`  ${location.database}: applied ${report.executed.join(', ')}`);
    }
    const societeId = await this.ensureDefaultSociete(locations.tenant.database);
    return { locations, created, societeId };
  }

  /** Same encoding and collation as the monolith, so text is stored and compared the same way. */
  private async createLike(location: DatabaseLocation, options: CreateDatabaseOptions): Promise<void> {
    try {
      await this.admin.create(location, options);
    } catch (error) {
      // A server without the monolith's locale (another host) still gets a database in its encoding.
      if (!(error instanceof Error) || !/locale|collation|encoding/i.test(error.message)) throw error;
      await this.admin.create(location, { encoding: options.encoding, note: options.note });
    }
  }

  /** The default société and its default site, created once and found again on every rerun. */
  private async ensureDefaultSociete(database: string): Promise<string> {
    const config = this.configService.config;
    return this.connections.withClient({ database: config.authDatabase }, async (client) => {
      const societe = await client.query<{ id: string }>(
        `INSERT INTO societes (code, nom, status, database_name) VALUES ($1, $2, 'active', $3)
         ON CONFLICT (code) DO UPDATE SET updated_at = societes.updated_at RETURNING id`,
        [config.defaultSocieteCode.toUpperCase(), config.defaultSocieteName, database],
      );
      const societeId = societe.rows[0].id;
      await client.query(
        `INSERT INTO sites (societe_id, code, nom, is_default) VALUES ($1, 'PRINCIPAL', 'Site principal', true)
         ON CONFLICT (societe_id, code) DO NOTHING`,
        [societeId],
      );
      return societeId;
    });
  }

  /** Every migrated user belongs to the default société. */
  async linkUsers(societeId: string): Promise<number> {
    return this.connections.withClient(
      { database: this.configService.config.authDatabase },
      async (client) => {
        const result = await client.query(
          `INSERT INTO societe_users (societe_id, user_id, role, is_default)
         SELECT $1, u.id, 'member', true FROM users u
         ON CONFLICT (societe_id, user_id) DO NOTHING`,
          [societeId],
        );
        return result.rowCount ?? 0;
      },
    );
  }

  async analyze(): Promise<void> {
    await Promise.all(
      Object.values(this.locations()).map((location) =>
        this.connections.withClient(location, (client) => client.query('ANALYZE'), {
          applicationName: 'topsteel-analyze',
        }),
      ),
    );
  }
}

async function databaseOptions(monolith: Client): Promise<CreateDatabaseOptions> {
  const result = await monolith.query<{ encoding: string; collate: string; ctype: string }>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype FROM pg_database WHERE datname = current_database()`,
  );
  const row = result.rows[0];
  return { encoding: row.encoding, collate: row.collate, ctype: row.ctype };
}
