import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { RunContext } from '../../../common/run/run-context';
import {
  MultiTenantDatabaseConfig,
  tenantDatabaseName,
} from '../../../database/config/multi-tenant-database.config';
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
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteProvisioningService } from '../../../modules/societes/societe-provisioning.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';

/** AUTH, SHARED and the default société's tenant database: where the split writes. */
export function splitLocations(config: MultiTenantDatabaseConfig): Record<SchemaKind, DatabaseLocation> {
  return {
    auth: { database: config.authDatabase },
    shared: { database: config.sharedDatabase },
    tenant: { database: tenantDatabaseName(config, config.defaultSocieteCode) },
  };
}

export type PreparedTargets = {
  locations: Record<SchemaKind, DatabaseLocation>;
  created: { name: string; kind: SchemaKind }[];
  societeId: string;
};

type Prepared = { kind: SchemaKind; location: DatabaseLocation; created: boolean; executed: string[] };

/**
 * Creates what the split writes into, each step idempotent so that a rerun after any crash simply
 * continues: AUTH first with the journal (which records SHARED and the default société's tenant
 * database before they exist), then the three migrated side by side while SHARED and the tenant are
 * created (like the monolith: same encoding and collation), then the default société through the
 * provisioning service as soon as AUTH and its database are ready.
 */
@Injectable()
export class SplitTargets {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly provisioning: SocieteProvisioningService,
  ) {}

  locations(): Record<SchemaKind, DatabaseLocation> {
    return splitLocations(this.configService.config);
  }

  async prepare(run: RunContext, monolith: Client, lock: HeldLock): Promise<PreparedTargets> {
    const config = this.configService.config;
    const locations = this.locations();
    const options = await databaseOptions(monolith);
    // AUTH first: the journal lives there, and it records SHARED and the tenant before they are
    // created (a rollback skips a recorded database that does not exist, never an unrecorded one).
    const authCreated = await this.ensureDatabase(run, 'auth', locations.auth, options);
    await this.journalRun(run, locations);
    // Then the three migrate side by side, SHARED and the tenant created meanwhile (on a small
    // monolith these steps are most of db:migrate's fixed cost). All settle before anything is
    // reported, so a failure of one never leaves another running unobserved.
    const tenantReady = Promise.all([
      this.migrate(run, 'auth', locations.auth, authCreated),
      this.prepareOne(run, 'tenant', locations.tenant, options),
    ]);
    // The default société needs AUTH's and its database's migrations only: it overlaps SHARED's.
    const provisioned = tenantReady.then(() =>
      run.step('default société', () =>
        this.provisioning.ensureSociete(
          { code: config.defaultSocieteCode.toUpperCase(), nom: config.defaultSocieteName },
          { runId: run.runId, lock, onStep: (step) => run.detail(`  ${step}`) },
        ),
      ),
    );
    const [ready, shared, societe] = await Promise.allSettled([
      tenantReady,
      this.prepareOne(run, 'shared', locations.shared, options),
      provisioned,
    ]);
    if (ready.status === 'rejected') throw ready.reason;
    if (shared.status === 'rejected') throw shared.reason;
    if (societe.status === 'rejected') throw societe.reason;
    const [auth, tenant] = ready.value;
    const prepared = [auth, shared.value, tenant];
    for (const { location, executed } of prepared)
      if (executed.length > 0) run.info(`  ${location.database}: applied ${executed.join(', ')}`);
    return {
      locations,
      created: prepared
        .filter((one) => one.created)
        .map((one) => ({ name: one.location.database, kind: one.kind })),
      societeId: societe.value.societe.societeId,
    };
  }

  /** The run and the split on record, and every database the split writes, in one journal session. */
  private async journalRun(run: RunContext, locations: Record<SchemaKind, DatabaseLocation>): Promise<void> {
    const config = this.configService.config;
    await this.journal.withJournal(async (journal) => {
      await journal.startRun(run.runId, run.command, hostname(), process.pid);
      const split = await journal.split();
      await journal.saveSplit({
        status: 'in_progress',
        sourceDatabase: config.monolithDatabase,
        runId: run.runId,
        societeId: split?.societeId,
      });
      for (const kind of ['auth', 'shared', 'tenant'] as const)
        await journal.recordDatabase({
          name: locations[kind].database,
          kind,
          societeCode: kind === 'tenant' ? config.defaultSocieteCode.toUpperCase() : null,
          host: null,
          port: null,
          createdByRun: run.runId,
        });
    });
  }

  /** SHARED or the tenant database: created (or adopted when empty), then migrated. */
  private async prepareOne(
    run: RunContext,
    kind: SchemaKind,
    location: DatabaseLocation,
    options: CreateDatabaseOptions,
  ): Promise<Prepared> {
    const created = await this.ensureDatabase(run, kind, location, options);
    return this.migrate(run, kind, location, created);
  }

  /** Creates the database, or adopts it when it exists empty; true when this run created it. */
  private async ensureDatabase(
    run: RunContext,
    kind: SchemaKind,
    location: DatabaseLocation,
    options: CreateDatabaseOptions,
  ): Promise<boolean> {
    if (!(await this.admin.exists(location))) {
      await run.step(`create ${location.database}`, () =>
        this.createLike(location, { ...options, note: `${kind} run=${run.runId}` }),
      );
      return true;
    }
    // The pre-flight refused one of ours that holds data the journal does not account for.
    await this.admin.adoptIfEmpty(location, `${kind} run=${run.runId}`, { resume: true });
    return false;
  }

  private async migrate(
    run: RunContext,
    kind: SchemaKind,
    location: DatabaseLocation,
    created: boolean,
  ): Promise<Prepared> {
    const report = await run.step(`migrate ${location.database}`, () =>
      this.schemaMigrations.run(location, kind),
    );
    return { kind, location, created, executed: report.executed };
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

  /**
   * Statistics for the tables the split wrote, not the system catalogues a bare ANALYZE also
   * samples: those are three quarters of its time on a small split, and they compete with the
   * verification for the CPU (autovacuum keeps them as it does in any database).
   */
  async analyze(): Promise<void> {
    await Promise.all(
      Object.values(this.locations()).map((location) =>
        this.connections.withClient(
          location,
          async (client) => {
            const result = await client.query<{ schema: string; name: string }>(
              `SELECT n.nspname AS schema, c.relname AS name
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p', 'm')
                 AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
               ORDER BY pg_relation_size(c.oid) DESC, n.nspname, c.relname`,
            );
            if (result.rows.length === 0) return;
            // Largest first (ANALYZE takes its list in order): the big tables overlap the foreign
            // keys' validation, and what is left at the end is small.
            await client.query(
              `ANALYZE ${result.rows.map((table) => quoteQualified(table.schema, table.name)).join(', ')}`,
            );
          },
          { applicationName: 'topsteel-analyze' },
        ),
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
