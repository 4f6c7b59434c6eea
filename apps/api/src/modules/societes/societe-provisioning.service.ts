import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { MigrationJournalService } from '../database/journal/migration-journal.service';
import { DatabaseAdminService } from '../database/database-admin.service';
import { DatabaseConfigService } from '../database/database-config.service';
import { HeldLock } from '../database/migration-lock.service';
import { DatabaseLocation, PostgresConnectionFactory } from '../database/postgres-connection.factory';
import { SchemaMigrationService } from '../database/schema-migration.service';
import { SocieteInput, ValidatedSocieteInput, validateSocieteInput } from './societe-input';
import {
  SOCIETE_COLUMNS,
  SocieteRecord,
  SocieteRegistryService,
  SocieteRow,
  toSocieteRecord,
} from './societe-registry.service';
import { SocieteException, SocieteExceptionCode } from './societe.exception';

/** Every société gets one default site; its code is stable so scripts and tests can rely on it. */
export const DEFAULT_SITE = { code: 'PRINCIPAL', nom: 'Site principal' } as const;

export type EnsureSocieteOptions = {
  /** Recorded in the journal as `created_by_run` and in the database's ownership marker. */
  runId: string;
  /**
   * Proof that the caller holds the migration lock (DESIGN.md invariant 4): provisioning creates a
   * database, so it must never run beside migrate or rollback. Checked before every step.
   */
  lock: HeldLock;
  /** Narrative for the caller's progress output ("creating database …"). */
  onStep?: (step: string) => void;
};

export type EnsureSocieteResult = {
  societe: SocieteRecord;
  /** The `societes` row was inserted by this call (false: it existed already). */
  created: boolean;
  /** The tenant database was created by this call. */
  databaseCreated: boolean;
  /** Tenant migrations applied by this call (empty when the schema was current). */
  migrationsApplied: string[];
  defaultSiteCreated: boolean;
};

/**
 * Creates a société idempotently: tenant database (closed to PUBLIC, marked as ours, recorded in
 * the journal so rollback may drop it), tenant migrations, the `societes` row and its default site.
 * Running it again finishes whatever a crashed run left undone and otherwise changes nothing. When
 * a step fails after this call created the database, the database is dropped again and forgotten
 * by the journal; a database this call did not create is never dropped.
 *
 * The HTTP app, `societe:create` and the split (for the default société, with an explicit id,
 * before it copies data) all provision through here.
 */
@Injectable()
export class SocieteProvisioningService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly registry: SocieteRegistryService,
  ) {}

  /** Validates without touching any database (usage errors, exit 2). */
  validate(input: SocieteInput): ValidatedSocieteInput {
    const config = this.configService.config;
    const request = validateSocieteInput(input, config.tenantPrefix);
    const reserved = [
      config.authDatabase,
      config.sharedDatabase,
      config.monolithDatabase,
      config.maintenanceDatabase,
    ];
    if (reserved.includes(request.databaseName)) {
      throw new SocieteException(
        SocieteExceptionCode.InvalidCode,
        `société code ${request.code} would use database "${request.databaseName}", which is reserved by the configuration`,
      );
    }
    if (request.server !== null && !config.servers.some((server) => server.name === request.server)) {
      throw new SocieteException(
        SocieteExceptionCode.InvalidInput,
        `the server "${request.server}" is not declared in TENANT_SERVERS`,
      );
    }
    return request;
  }

  async ensureSociete(input: SocieteInput, options: EnsureSocieteOptions): Promise<EnsureSocieteResult> {
    const request = this.validate(input);
    options.lock.assertHeld();
    const existing = await this.withAuth((client) => this.findConflicts(client, request));
    if (existing) return this.completeExisting(existing, request, options);
    return this.provisionNew(request, options);
  }

  /** Opens AUTH, refusing clearly when it (or its `societes` table) does not exist yet. */
  private async withAuth<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const auth: DatabaseLocation = { database: this.configService.config.authDatabase };
    const notReady = () =>
      new SocieteException(
        SocieteExceptionCode.AuthNotReady,
        `the AUTH database "${auth.database}" has no societes table yet`,
      );
    if (!(await this.admin.exists(auth))) throw notReady();
    return this.connections.withClient(
      auth,
      async (client) => {
        if (!(await this.registry.hasSocietesTable(client))) throw notReady();
        return work(client);
      },
      { applicationName: 'topsteel-societes' },
    );
  }

  /** The société with this code, if any, after refusing an id or database that belongs to another. */
  private async findConflicts(client: Client, request: ValidatedSocieteInput): Promise<SocieteRecord | null> {
    const byCode = await this.registry.findWith(client, request.code, { includeDeleted: true });
    if (byCode?.deletedAt) {
      throw new SocieteException(
        SocieteExceptionCode.Conflict,
        `société ${request.code} exists but was deleted on ${byCode.deletedAt}; restore it or use another code`,
      );
    }
    if (byCode && request.id && byCode.societeId !== request.id) {
      throw new SocieteException(
        SocieteExceptionCode.Conflict,
        `société ${request.code} already exists with id ${byCode.societeId}, not ${request.id}`,
      );
    }
    if (!byCode && request.id) {
      const byId = await this.registry.findWith(client, request.id, { includeDeleted: true });
      if (byId)
        throw new SocieteException(
          SocieteExceptionCode.Conflict,
          `id ${request.id} already belongs to société ${byId.code}`,
        );
    }
    if (!byCode) {
      const byDatabase = await client.query<{ code: string }>(
        'SELECT code FROM societes WHERE database_name = $1',
        [request.databaseName],
      );
      if (byDatabase.rows[0])
        throw new SocieteException(
          SocieteExceptionCode.Conflict,
          `database "${request.databaseName}" is already used by société ${byDatabase.rows[0].code}`,
        );
    }
    return byCode;
  }

  /** A recorded société: finish what an older version or a crash left undone, change nothing else. */
  private async completeExisting(
    societe: SocieteRecord,
    request: ValidatedSocieteInput,
    options: EnsureSocieteOptions,
  ): Promise<EnsureSocieteResult> {
    const sameServer =
      (request.host === null || request.host === societe.host) &&
      (request.port === null || request.port === societe.port) &&
      (request.server === null || request.server === (societe.server ?? (societe.host ? null : 'default')));
    if (!sameServer) {
      throw new SocieteException(
        SocieteExceptionCode.Conflict,
        `société ${societe.code} already exists on another server (${societe.server ?? societe.host ?? 'default'})`,
      );
    }
    const location: DatabaseLocation = {
      database: societe.database,
      server: societe.server,
      host: societe.host,
      port: societe.port,
    };
    if (!(await this.admin.exists(location))) {
      throw new SocieteException(
        SocieteExceptionCode.DatabaseMissing,
        `the database "${societe.database}" of société ${societe.code} does not exist`,
        { societe: societe.code, database: societe.database },
      );
    }
    // Record it only when it is ours: rollback drops what the journal lists.
    if (await this.admin.isOwnedByTool(location)) await this.record(request, societe.database, options);
    options.lock.assertHeld();
    const migrations = await this.schemaMigrations.run(location, 'tenant');
    if (migrations.executed.length > 0)
      options.onStep?.(`applied ${migrations.executed.length} tenant migration(s) to ${societe.database}`);
    const defaultSiteCreated = await this.withAuth((client) =>
      this.ensureDefaultSite(client, societe.societeId),
    );
    return {
      societe,
      created: false,
      databaseCreated: false,
      migrationsApplied: migrations.executed,
      defaultSiteCreated,
    };
  }

  private async provisionNew(
    request: ValidatedSocieteInput,
    options: EnsureSocieteOptions,
  ): Promise<EnsureSocieteResult> {
    const location: DatabaseLocation = {
      database: request.databaseName,
      server: request.server,
      host: request.host,
      port: request.port,
    };
    let databaseCreated = false;
    if (await this.admin.exists(location)) {
      // A database left empty by a crashed run of ours is resumed; one holding rows, or anybody
      // else's, is refused by name and never touched.
      await this.admin.adoptIfEmpty(location, `tenant ${request.code} run=${options.runId}`);
      options.onStep?.(`resuming with the existing database ${request.databaseName}`);
    } else {
      options.lock.assertHeld();
      options.onStep?.(`creating database ${request.databaseName}`);
      await this.admin.create(location, { note: `tenant ${request.code} run=${options.runId}` });
      databaseCreated = true;
    }
    try {
      await this.record(request, request.databaseName, options);
      options.lock.assertHeld();
      options.onStep?.(`running tenant migrations on ${request.databaseName}`);
      const migrations = await this.schemaMigrations.run(location, 'tenant');
      options.lock.assertHeld();
      options.onStep?.(`registering société ${request.code}`);
      const { societe, defaultSiteCreated } = await this.withAuth((client) =>
        this.insertSociete(client, request),
      );
      return {
        societe,
        created: true,
        databaseCreated,
        migrationsApplied: migrations.executed,
        defaultSiteCreated,
      };
    } catch (error) {
      if (databaseCreated) await this.undo(location, error);
      throw error;
    }
  }

  private async record(
    request: ValidatedSocieteInput,
    database: string,
    options: EnsureSocieteOptions,
  ): Promise<void> {
    options.lock.assertHeld();
    await this.journal.withJournal((journal) =>
      journal.recordDatabase({
        name: database,
        kind: 'tenant',
        societeCode: request.code,
        host: request.host,
        port: request.port,
        server: request.server,
        createdByRun: options.runId,
      }),
    );
  }

  /** The société row and its default site, in one transaction. */
  private async insertSociete(
    client: Client,
    request: ValidatedSocieteInput,
  ): Promise<{ societe: SocieteRecord; defaultSiteCreated: boolean }> {
    await client.query('BEGIN');
    try {
      const inserted = await client.query<SocieteRow>(
        `INSERT INTO societes (id, code, nom, status, database_name, database_host, database_port, database_server)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, 'active', $4, $5, $6, $7)
         RETURNING ${SOCIETE_COLUMNS}`,
        [
          request.id,
          request.code,
          request.nom,
          request.databaseName,
          request.host,
          request.port,
          request.server,
        ],
      );
      const societe = toSocieteRecord(inserted.rows[0]);
      const defaultSiteCreated = await this.ensureDefaultSite(client, societe.societeId);
      await client.query('COMMIT');
      return { societe, defaultSiteCreated };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Adds the default site unless the société already has one (whatever its code). */
  private async ensureDefaultSite(client: Client, societeId: string): Promise<boolean> {
    const result = await client.query(
      `INSERT INTO sites (societe_id, code, nom, is_default)
       SELECT $1::uuid, $2, $3, true
       WHERE NOT EXISTS (SELECT 1 FROM sites WHERE societe_id = $1::uuid AND is_default)
       ON CONFLICT DO NOTHING`,
      [societeId, DEFAULT_SITE.code, DEFAULT_SITE.nom],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Drops the database this call created and forgets it; the original error is what the caller sees. */
  private async undo(location: DatabaseLocation, cause: unknown): Promise<void> {
    try {
      await this.admin.drop(location, { requireOwnership: true });
      // A record left behind names a database that no longer exists, which rollback skips harmlessly.
      await this.journal
        .withJournal((journal) => journal.forgetDatabase(location.database))
        .catch(() => undefined);
    } catch (undoError) {
      const reason = undoError instanceof Error ? undoError.message : String(undoError);
      const original = cause instanceof Error ? cause.message : String(cause);
      throw new SocieteException(
        SocieteExceptionCode.UndoFailed,
        `${original}; then dropping the new database "${location.database}" failed too: ${reason}`,
        { database: location.database },
        { cause },
      );
    }
  }
}
