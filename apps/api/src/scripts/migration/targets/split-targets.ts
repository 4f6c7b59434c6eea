import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { Client } from 'pg';
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
 * continues: AUTH first with the journal (which then records every other database the tool
 * creates), then SHARED and the default société's tenant database side by side (like the monolith:
 * same encoding and collation), each with its 001 migrations, then the default société through the
 * provisioning service.
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
    // AUTH first: the journal lives there and records every database created after it.
    const auth = await this.prepareOne(run, 'auth', locations.auth, options);
    // SHARED and the tenant depend on AUTH only, not on each other: created and migrated side by
    // side (on a small monolith these steps are most of db:migrate's fixed cost). Both settle before
    // anything is reported, so a failure of one never leaves the other running unobserved.
    const others = await Promise.allSettled(
      (['shared', 'tenant'] as const).map((kind) => this.prepareOne(run, kind, locations[kind], options)),
    );
    const failed = others.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const prepared = [auth, ...others.map((outcome) => (outcome as PromiseFulfilledResult<Prepared>).value)];
    for (const { location, executed } of prepared)
      if (executed.length > 0) run.info(`  ${location.database}: applied ${executed.join(', ')}`);
    // The société itself goes through the same provisioning as every other one (row, default site, journal).
    const provisioned = await run.step('default société', () =>
      this.provisioning.ensureSociete(
        { code: config.defaultSocieteCode.toUpperCase(), nom: config.defaultSocieteName },
        { runId: run.runId, lock, onStep: (step) => run.detail(`  ${step}`) },
      ),
    );
    return {
      locations,
      created: prepared
        .filter((one) => one.created)
        .map((one) => ({ name: one.location.database, kind: one.kind })),
      societeId: provisioned.societe.societeId,
    };
  }

  /** One target database: created (or adopted when empty), recorded in the journal, migrated. */
  private async prepareOne(
    run: RunContext,
    kind: SchemaKind,
    location: DatabaseLocation,
    options: CreateDatabaseOptions,
  ): Promise<Prepared> {
    const config = this.configService.config;
    let created = false;
    if (!(await this.admin.exists(location))) {
      await run.step(`create ${location.database}`, () =>
        this.createLike(location, { ...options, note: `${kind} run=${run.runId}` }),
      );
      created = true;
    } else {
      // The pre-flight refused one of ours that holds data the journal does not account for.
      await this.admin.adoptIfEmpty(location, `${kind} run=${run.runId}`, { resume: true });
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
