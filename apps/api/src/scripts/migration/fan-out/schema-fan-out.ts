import { RunContext } from '../../../common/run/run-context';
import { runForEach } from '../../../common/run/run-for-each';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteRegistryService } from '../../../modules/societes/societe-registry.service';

export type DatabaseMigrationOutcome = {
  database: string;
  kind: SchemaKind;
  societe: string | null;
  status: 'up-to-date' | 'migrated' | 'pending' | 'failed';
  migrations: string[];
  error?: string;
};

export type SchemaFanOutReport = {
  migrated: number;
  failed: number;
  upToDate: number;
  pending: number;
  databases: DatabaseMigrationOutcome[];
  nothingToDo: boolean;
};

type Target = { name: string; kind: SchemaKind; societe: string | null; location: DatabaseLocation };

/**
 * Every run after the split (the CI pre-deploy case): pending TypeORM migrations of AUTH, SHARED
 * and every tenant in AUTH's `societes`, each database in its own transaction. Pending work is
 * found with one short connection per database, at most min(--jobs, TENANT_MAX_DATASOURCES) at a
 * time, so a deploy with nothing pending is quick and never crowds the server. A failing
 * database is reported and the others go on; the command exits 1.
 */
export class SchemaFanOut {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly societes: SocieteRegistryService,
  ) {}

  async run(
    options: { jobs: number; tenants?: string[]; dryRun?: boolean },
    run: RunContext,
  ): Promise<SchemaFanOutReport> {
    const config = this.configService.config;
    const wanted = new Set((options.tenants ?? []).map((code) => code.toUpperCase()));
    const tenants: Target[] = (await this.societes.list())
      .filter((societe) => wanted.size === 0 || wanted.has(societe.code.toUpperCase()))
      .map((societe) => ({
        name: societe.database,
        kind: 'tenant',
        societe: societe.code,
        location: {
          database: societe.database,
          server: societe.server,
          host: societe.host,
          port: societe.port,
        },
      }));
    const unknown = [...wanted].filter(
      (code) => !tenants.some((tenant) => tenant.societe?.toUpperCase() === code),
    );
    if (unknown.length > 0) run.info(`No société with code ${unknown.join(', ')}.`);
    const core: Target[] =
      wanted.size > 0
        ? []
        : [
            {
              name: config.authDatabase,
              kind: 'auth',
              societe: null,
              location: { database: config.authDatabase },
            },
            {
              name: config.sharedDatabase,
              kind: 'shared',
              societe: null,
              location: { database: config.sharedDatabase },
            },
          ];

    const migrate = async (target: Target): Promise<DatabaseMigrationOutcome> => {
      const pending = await this.schemaMigrations.pending(target.location, target.kind);
      const outcome = { database: target.name, kind: target.kind, societe: target.societe };
      if (pending.length === 0) return { ...outcome, status: 'up-to-date', migrations: [] };
      if (options.dryRun) return { ...outcome, status: 'pending', migrations: pending };
      const report = await this.schemaMigrations.run(target.location, target.kind);
      return { ...outcome, status: 'migrated', migrations: report.executed };
    };
    const describe = (outcome: DatabaseMigrationOutcome) =>
      outcome.status === 'up-to-date' ? 'up to date' : `${outcome.status} ${outcome.migrations.join(', ')}`;

    run.info(`Checking ${core.length + tenants.length} database(s) for pending migrations…`);
    // AUTH and SHARED first, in order: tenants may rely on what they add.
    const coreReport = await runForEach(core, { concurrency: 1, run, describe }, migrate);
    const concurrency = Math.max(1, Math.min(options.jobs, config.tenantMaxDataSources));
    const tenantReport = await runForEach(tenants, { concurrency, run, describe }, migrate);
    run.shutdown.throwIfRequested();

    const databases: DatabaseMigrationOutcome[] = [...coreReport.outcomes, ...tenantReport.outcomes].map(
      (outcome) =>
        outcome.ok
          ? outcome.value
          : {
              database: outcome.item.name,
              kind: outcome.item.kind,
              societe: outcome.item.societe,
              status: 'failed',
              migrations: [],
              error: outcome.error,
            },
    );
    const report: SchemaFanOutReport = {
      migrated: databases.filter((database) => database.status === 'migrated').length,
      failed: databases.filter((database) => database.status === 'failed').length,
      upToDate: databases.filter((database) => database.status === 'up-to-date').length,
      pending: databases.filter((database) => database.status === 'pending').length,
      databases,
      nothingToDo: databases.every((database) => database.status === 'up-to-date'),
    };
    return report;
  }
}
