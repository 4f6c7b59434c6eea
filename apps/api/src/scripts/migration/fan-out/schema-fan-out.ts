import { RunContext } from '../../../common/run/run-context';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { DatabaseException, DatabaseExceptionCode } from '../../../modules/database/database.exception';
import { interleaveByServer, ServerSlots } from './server-slots';
import { runForEach, RunnerOutcome } from '../../../common/run/run-for-each';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteRegistryService } from '../../../modules/societes/societe-registry.service';

export type DatabaseMigrationOutcome = {
  database: string;
  kind: SchemaKind;
  societe: string | null;
  /** The tenant server (TENANT_SERVERS name) of a tenant database. */
  server?: string;
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
  /** Most tenant migrations that ran at once on each server (within TENANT_SERVER_MAX_CONNECTIONS). */
  peakPerServer: Record<string, number>;
};

type Target = {
  name: string;
  kind: SchemaKind;
  societe: string | null;
  location: DatabaseLocation;
  server: string;
};

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
    const tenants = await this.tenantTargets(options.tenants ?? [], run);
    const core = (options.tenants ?? []).length > 0 ? [] : this.coreTargets();
    const migrate = (target: Target) => this.migrateOne(target, options.dryRun);
    const describe = (outcome: DatabaseMigrationOutcome) =>
      outcome.status === 'up-to-date' ? 'up to date' : `${outcome.status} ${outcome.migrations.join(', ')}`;

    run.info(`Checking ${core.length + tenants.length} database(s) for pending migrations…`);
    // AUTH and SHARED first, in order: tenants may rely on what they add.
    const coreReport = await runForEach(core, { concurrency: 1, run, describe }, migrate);
    const servers = new Set(tenants.map((tenant) => tenant.server)).size;
    const concurrency = Math.max(
      1,
      Math.min(options.jobs, config.tenantMaxDataSources, servers * config.tenantServerMaxConnections),
    );
    const slots = new ServerSlots(config.tenantServerMaxConnections);
    const tenantReport = await runForEach(
      interleaveByServer(tenants),
      { concurrency, run, describe },
      serverAware(slots, migrate),
    );
    run.shutdown.throwIfRequested();
    return summarise([...coreReport.outcomes, ...tenantReport.outcomes], slots);
  }

  /** The sociétés' databases (all, or those --tenant names), each on its server. */
  private async tenantTargets(codes: string[], run: RunContext): Promise<Target[]> {
    const wanted = new Set(codes.map((code) => code.toUpperCase()));
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
        server: societe.server ?? (societe.host ? `${societe.host}:${societe.port ?? ''}` : DEFAULT_SERVER),
      }));
    const unknown = [...wanted].filter(
      (code) => !tenants.some((tenant) => tenant.societe?.toUpperCase() === code),
    );
    if (unknown.length > 0) run.info(`No société with code ${unknown.join(', ')}.`);
    return tenants;
  }

  private coreTargets(): Target[] {
    const config = this.configService.config;
    return (['auth', 'shared'] as const).map((kind) => {
      const name = kind === 'auth' ? config.authDatabase : config.sharedDatabase;
      return { name, kind, societe: null, location: { database: name }, server: DEFAULT_SERVER };
    });
  }

  private async migrateOne(target: Target, dryRun?: boolean): Promise<DatabaseMigrationOutcome> {
    const pending = await this.schemaMigrations.pending(target.location, target.kind);
    const outcome = {
      database: target.name,
      kind: target.kind,
      societe: target.societe,
      ...(target.kind === 'tenant' ? { server: target.server } : {}),
    };
    if (pending.length === 0) return { ...outcome, status: 'up-to-date', migrations: [] };
    if (dryRun) return { ...outcome, status: 'pending', migrations: pending };
    const report = await this.schemaMigrations.run(target.location, target.kind);
    return { ...outcome, status: 'migrated', migrations: report.executed };
  }
}

/**
 * Bounded per server (TENANT_SERVER_MAX_CONNECTIONS); a server that does not answer fails its own
 * sociétés at once (named), the others go on.
 */
function serverAware(
  slots: ServerSlots,
  migrate: (target: Target) => Promise<DatabaseMigrationOutcome>,
): (target: Target) => Promise<DatabaseMigrationOutcome> {
  const down = new Map<string, string>();
  return (target) => {
    const unreachable = down.get(target.server);
    if (unreachable) return Promise.reject(new Error(`société ${target.societe}: ${unreachable}`));
    return slots.with(target.server, async () => {
      try {
        return await migrate(target);
      } catch (error) {
        if (error instanceof DatabaseException && error.code === DatabaseExceptionCode.Unreachable) {
          const server = `server ${target.server} does not answer`;
          down.set(target.server, server);
          throw new Error(`société ${target.societe}: ${server}: ${error.message}`, { cause: error });
        }
        throw error;
      }
    });
  };
}

function summarise(
  outcomes: RunnerOutcome<Target, DatabaseMigrationOutcome>[],
  slots: ServerSlots,
): SchemaFanOutReport {
  const databases: DatabaseMigrationOutcome[] = outcomes.map((outcome) =>
    outcome.ok
      ? outcome.value
      : {
          database: outcome.item.name,
          kind: outcome.item.kind,
          societe: outcome.item.societe,
          ...(outcome.item.kind === 'tenant' ? { server: outcome.item.server } : {}),
          status: 'failed',
          migrations: [],
          error: outcome.error,
        },
  );
  const count = (status: DatabaseMigrationOutcome['status']) =>
    databases.filter((database) => database.status === status).length;
  return {
    migrated: count('migrated'),
    failed: count('failed'),
    upToDate: count('up-to-date'),
    pending: count('pending'),
    databases,
    nothingToDo: databases.every((database) => database.status === 'up-to-date'),
    peakPerServer: Object.fromEntries(slots.peak),
  };
}
