import { Client } from 'pg';
import { freeBytes } from '../../../common/fs/free-bytes';
import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { SCHEMA_KINDS, SchemaKind } from '../../../database/migrations/migration-sets';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { tableStatistics } from '../catalogue/catalogue';
import { ConnectionRoom, fitJobs, JobsDecision } from '../copy/connection-budget.service';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { Finding } from '../plan/finding';
import { PlanValidation, resolvePlan } from '../plan/plan-resolver';
import { serverMajor } from '../tools/pg-tools.service';
import { DryRunOptions } from './dry-run-report';
import { TargetDatabases } from './target-databases';

type ServerFacts = { version: string; number: string; createdb: boolean; tables: string };

/** Everything the pre-flight checks look at, read once in the source's read-only snapshot. */
export type PreflightFacts = {
  config: MultiTenantDatabaseConfig;
  source: Client;
  server: ServerFacts & { major: number };
  room: ConnectionRoom;
  jobs: JobsDecision;
  missingMigrations: SchemaKind[];
  migrationCounts: string;
  targets: TargetDatabases;
  validation: PlanValidation;
  blockers: { schema: Finding[]; access: Finding[]; data: Finding[] };
  rowsOf: (table: string) => number;
  freeDiskBytes: number | null;
};

const SCHEMA_BLOCKERS = [
  'UNKNOWN_TABLE',
  'UNKNOWN_COLUMN',
  'INCOMPATIBLE_TYPE',
  'NOT_NULL_NOT_FED',
  'EXCLUDED_PARENT',
];
const ACCESS_BLOCKERS = ['MISSING_PRIVILEGE', 'ROW_LEVEL_SECURITY'];

export async function readServerFacts(source: Client): Promise<ServerFacts & { major: number }> {
  const result = await source.query<ServerFacts>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number,
            (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS createdb,
            (SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')) AS tables`,
  );
  return { ...result.rows[0], major: serverMajor(Number(result.rows[0].number)) };
}

/** The plan resolved against the live monolith and the targets as they are, its blockers sorted by kind. */
export async function gatherFacts(
  base: { config: MultiTenantDatabaseConfig; source: Client; room: ConnectionRoom; targets: TargetDatabases },
  schemaMigrations: SchemaMigrationService,
  options: DryRunOptions,
): Promise<PreflightFacts> {
  const { source } = base;
  const validation = await resolvePlan(source, DEFAULT_PLAN, {
    excludeTables: options.excludeTables,
    targets: base.targets.targets,
    checkDerivedColumns: true,
  });
  const blockers = validation.findings.filter((finding) => finding.severity === 'blocker');
  const schema = blockers.filter((finding) => SCHEMA_BLOCKERS.includes(finding.code));
  const access = blockers.filter((finding) => ACCESS_BLOCKERS.includes(finding.code));
  const exact = options.exactCounts !== false;
  const statistics = await tableStatistics(
    source,
    validation.plan.tasks
      .filter((task) => task.readable && (exact || task.source === 'users'))
      .map((task) => ({ schema: 'public', name: task.source })),
  );
  const estimated = new Map(validation.plan.tasks.map((task) => [task.source, task.estimatedRows]));
  return {
    ...base,
    server: await readServerFacts(source),
    jobs: fitJobs(options.jobs, base.room),
    missingMigrations: SCHEMA_KINDS.filter((kind) => schemaMigrations.migrations(kind).length === 0),
    migrationCounts: SCHEMA_KINDS.map(
      (kind) => `${kind}: ${schemaMigrations.migrationNames(kind).length}`,
    ).join(', '),
    validation,
    blockers: {
      schema,
      access,
      data: blockers.filter((finding) => !schema.includes(finding) && !access.includes(finding)),
    },
    rowsOf: (name) => statistics.get(`public.${name}`)?.rows ?? (exact ? 0 : (estimated.get(name) ?? 0)),
    freeDiskBytes: freeBytes(base.config.backupDir),
  };
}
