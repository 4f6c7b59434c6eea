import { Injectable } from '@nestjs/common';
import { freeBytes } from '../../common/fs/free-bytes';
import { Client } from 'pg';
import { ExitCode } from '../../common/exceptions/exit-code';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { tenantDatabaseName } from '../../database/config/multi-tenant-database.config';
import { SCHEMA_KINDS, SchemaKind } from '../../database/migrations/migration-sets';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../modules/database/schema-migration.service';
import { formatBytes } from '../../common/format/format';
import { quoteQualified } from '../../common/identifiers/identifier';
import { tablesWithRows, tableStatistics } from './catalogue/catalogue';
import { EMAIL_DOMAIN_SQL } from './clean/clean-rules';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { DEFAULT_PLAN } from './plan/default-plan';
import { Finding } from './plan/finding';
import {
  readTargetSchema,
  ResolvedExclusion,
  ResolvedPlan,
  resolvePlan,
  TargetSchemas,
} from './plan/plan-resolver';
import { CutReference, NewTable } from './plan/plan.types';
import { PgToolsService, serverMajor } from './tools/pg-tools.service';
import { Check } from '../../common/run/check';

export type PlannedDatabase = {
  name: string;
  kind: SchemaKind;
  action: 'create' | 'adopt' | 'resume' | 'complete' | 'refused';
  reason?: string;
};

export type DryRunReport = {
  ok: boolean;
  checks: Check[];
  plan: {
    databases: PlannedDatabase[];
    tables: { source: string; target: string; database: SchemaKind; rows: number }[];
    excluded: ResolvedExclusion[];
    cutReferences: CutReference[];
    newTables: NewTable[];
    totalRows: number;
  };
  findings: Finding[];
  notes: string[];
};

export type DryRunOptions = { excludeTables?: string[]; jobs: number };

/** What migrate needs from a passed pre-flight: the resolved plan and the row counts it showed. */
export type Preflight = { report: DryRunReport; plan: ResolvedPlan | null; splitComplete: boolean };

const MINIMUM_SERVER_MAJOR = 12;

/**
 * `db:migration:dry-run`, and the pre-flight `db:migrate` runs before writing anything: every check
 * with ✅/❌ and why, then the plan (databases to create, tables with row counts, exclusions).
 */
@Injectable()
export class DryRunMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly tools: PgToolsService,
  ) {}

  async preflight(options: DryRunOptions): Promise<Preflight> {
    const config = this.configService.config;
    const checks: Check[] = [];
    const notes: string[] = [];
    const check = (id: string, label: string, ok: boolean, detail: string) =>
      checks.push({ id, label, ok, detail });
    check(
      'configuration',
      'configuration complete and valid',
      true,
      `monolith ${config.monolithDatabase} on ${config.host}:${config.port}, AUTH ${config.authDatabase}, SHARED ${config.sharedDatabase}, tenants ${config.tenantPrefix}_<code>`,
    );

    let source: Client;
    try {
      source = await this.connections.connect(
        { database: config.monolithDatabase },
        { readOnly: true, applicationName: 'topsteel-dry-run' },
      );
    } catch (error) {
      if (isTopsteelException(error) && error.exitCode === ExitCode.Usage) throw error;
      check('source', 'source reachable', false, error instanceof Error ? error.message : String(error));
      return { report: this.report(checks, null, [], notes, 0), plan: null, splitComplete: false };
    }
    try {
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      check(
        'source',
        'source reachable',
        true,
        this.connections.describe({ database: config.monolithDatabase }),
      );

      const server = await source.query<{
        version: string;
        number: string;
        createdb: boolean;
        free: number;
        max: number;
        tables: string;
        database: string;
      }>(
        `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number,
                (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS createdb,
                current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                  - (SELECT count(*)::int FROM pg_stat_activity) AS free,
                current_setting('max_connections')::int AS max,
                (SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')) AS tables,
                pg_database_size(current_database()) AS database`,
      );
      const info = server.rows[0];
      const major = serverMajor(Number(info.number));
      check(
        'server-version',
        `server version ≥ ${MINIMUM_SERVER_MAJOR}`,
        major >= MINIMUM_SERVER_MAJOR,
        `PostgreSQL ${info.version}`,
      );
      check(
        'create-database',
        'the role can create databases',
        info.createdb,
        info.createdb
          ? `${config.username} has CREATEDB`
          : `${config.username} lacks CREATEDB: ALTER ROLE ... CREATEDB`,
      );

      for (const line of await this.tools.checks(major)) check(line.id, line.label, line.ok, line.detail);

      const missingMigrations = SCHEMA_KINDS.filter(
        (kind) => this.schemaMigrations.migrations(kind).length === 0,
      );
      check(
        'migrations',
        'migration files for auth, shared and tenant found',
        missingMigrations.length === 0,
        missingMigrations.length === 0
          ? SCHEMA_KINDS.map((kind) => `${kind}: ${this.schemaMigrations.migrationNames(kind).length}`).join(
              ', ',
            )
          : `none for ${missingMigrations.join(', ')}`,
      );

      const { databases, targets, splitComplete } = await this.targetDatabases();
      const refused = databases.filter((database) => database.action === 'refused');
      check(
        'targets',
        'target databases absent, or created by this tool (resumable)',
        refused.length === 0,
        refused.length > 0
          ? `${refused.map((database) => `${database.name} ${database.reason ?? 'exists but was not created by this tool'}`).join('; ')}; such databases are never touched`
          : databases.map((database) => `${database.name}: ${database.action}`).join(', '),
      );

      const validation = await resolvePlan(source, DEFAULT_PLAN, {
        excludeTables: options.excludeTables,
        targets,
        checkDerivedColumns: true,
      });
      const schemaBlockers = validation.findings.filter(
        (finding) =>
          finding.severity === 'blocker' &&
          [
            'UNKNOWN_TABLE',
            'UNKNOWN_COLUMN',
            'INCOMPATIBLE_TYPE',
            'NOT_NULL_NOT_FED',
            'EXCLUDED_PARENT',
          ].includes(finding.code),
      );
      const accessBlockers = validation.findings.filter(
        (finding) =>
          finding.severity === 'blocker' &&
          ['MISSING_PRIVILEGE', 'ROW_LEVEL_SECURITY'].includes(finding.code),
      );
      const dataBlockers = validation.findings.filter(
        (finding) =>
          finding.severity === 'blocker' &&
          !schemaBlockers.includes(finding) &&
          !accessBlockers.includes(finding),
      );
      check(
        'read-access',
        'the role reads every row of every planned table',
        accessBlockers.length === 0,
        accessBlockers.length === 0
          ? 'SELECT granted, no row-level security in the way'
          : accessBlockers.map((finding) => finding.message).join('; '),
      );
      check(
        'plan-coverage',
        'the plan covers the live schema',
        schemaBlockers.length === 0,
        schemaBlockers.length === 0
          ? `${validation.plan.tasks.length} tables planned, ${validation.plan.excluded.length} excluded`
          : schemaBlockers.map((finding) => finding.message).join('; '),
      );
      check(
        'data-blockers',
        'no blocker in the data',
        dataBlockers.length === 0,
        dataBlockers.length === 0
          ? 'enum values and NOT NULL columns fit the targets'
          : dataBlockers.map((finding) => finding.message).join('; '),
      );

      const statistics = await tableStatistics(
        source,
        validation.plan.tasks
          .filter((task) => task.readable)
          .map((task) => ({ schema: 'public', name: task.source })),
      );
      const rowsOf = (name: string) => statistics.get(`public.${name}`)?.rows ?? 0;
      const usersTask = validation.plan.tasks.find((task) => task.source === 'users');
      check(
        'users',
        'users to migrate identified',
        usersTask !== undefined,
        usersTask ? `${rowsOf('users')} user(s)` : 'no users table in the source',
      );

      const estimate = Number(info.tables);
      const free = freeBytes(config.backupDir);
      check(
        'disk-space',
        `free disk space in BACKUP_DIR above the estimated dump size`,
        free === null || free > estimate,
        free === null
          ? `cannot read free space of ${config.backupDir}`
          : `${formatBytes(free)} free, dump estimated at most ${formatBytes(estimate)}`,
      );
      const needed = options.jobs * 2 + 4;
      check(
        'connections',
        `max_connections leaves room for --jobs ${options.jobs}`,
        info.free >= needed,
        `${info.free} of ${info.max} connections free, ${needed} needed`,
      );

      const testTables = validation.plan.excluded.filter(
        (exclusion) => /^test_/.test(exclusion.source) && validation.present.has(exclusion.source),
      );
      const testStatistics = await tableStatistics(
        source,
        testTables.map((exclusion) => ({ schema: 'public', name: exclusion.source })),
      );
      const testData = [...testStatistics.values()].reduce((sum, value) => sum + value.rows, 0);
      if (testData > 0)
        notes.push(
          `${testData} row(s) of test data in test_* tables stay behind: review and remove them with npm run db:clean (then db:clean:execute).`,
        );
      const demoAccounts = await this.demoAccounts(source, validation.plan.tasks);
      if (demoAccounts.length > 0)
        notes.push(
          `${demoAccounts.join(' and ')} on demo e-mail domains (${config.cleanTestEmailDomains.join(', ')}) would be migrated: review them with npm run db:clean (rules demo-users, demo-clients), remove them with db:clean:execute.`,
        );
      if (splitComplete)
        notes.push('The split is already complete: db:migrate will only apply pending schema migrations.');

      const tables = validation.plan.tasks.map((task) => ({
        source: task.source,
        target: task.target,
        database: task.database,
        rows: rowsOf(task.source),
      }));
      const report = this.report(
        checks,
        { databases, tables, excluded: validation.plan.excluded },
        validation.findings,
        notes,
        tables.reduce((sum, table) => sum + table.rows, 0),
      );
      return { report, plan: validation.plan, splitComplete };
    } finally {
      await source.query('ROLLBACK').catch(() => undefined);
      await source.end().catch(() => undefined);
    }
  }

  /** "3 user(s)", "2 client(s)": accounts db:clean's demo rules select (same predicate), for tables that have an email column. */
  private async demoAccounts(source: Client, tasks: ResolvedPlan['tasks']): Promise<string[]> {
    const counts: string[] = [];
    for (const [table, label] of [
      ['users', 'user(s)'],
      ['clients', 'client(s)'],
    ] as const) {
      const task = tasks.find((candidate) => candidate.source === table);
      if (!task?.readable || !task.columns.some((column) => column.name === 'email')) continue;
      const result = await source.query<{ count: string }>(
        `SELECT count(*) AS count FROM ${quoteQualified('public', table)} WHERE ${EMAIL_DOMAIN_SQL} = ANY($1::text[])`,
        [this.configService.config.cleanTestEmailDomains],
      );
      const count = Number(result.rows[0].count);
      if (count > 0) counts.push(`${count} ${label}`);
    }
    return counts;
  }

  /** AUTH, SHARED and the default tenant: absent (create), empty (adopt), ours (resume), or refused. */
  private async targetDatabases(): Promise<{
    databases: PlannedDatabase[];
    targets: TargetSchemas;
    splitComplete: boolean;
  }> {
    const config = this.configService.config;
    const journal = await this.journal.read().catch(() => null);
    const recorded = new Set(journal?.databases.map((database) => database.name) ?? []);
    const splitComplete = journal?.split?.status === 'complete';
    const splitRecorded = journal?.split !== null && journal?.split !== undefined;
    const wanted: [string, SchemaKind][] = [
      [config.authDatabase, 'auth'],
      [config.sharedDatabase, 'shared'],
      [tenantDatabaseName(config, config.defaultSocieteCode), 'tenant'],
    ];
    const databases: PlannedDatabase[] = [];
    const targets: TargetSchemas = {};
    for (const [name, kind] of wanted) {
      const location = { database: name };
      if (!(await this.admin.exists(location))) {
        databases.push({ name, kind, action: 'create' });
        continue;
      }
      const ours = recorded.has(name) || (await this.admin.isOwnedByTool(location));
      if (!ours) {
        // What a crash between CREATE DATABASE and its ownership marker leaves: nothing to lose, taken over.
        const ownership = await this.admin.ownership(location);
        const empty = ownership.owner === 'unmarked' && (await this.admin.isEmpty(location));
        databases.push({
          name,
          kind,
          action: empty ? 'adopt' : 'refused',
          reason: empty
            ? undefined
            : ownership.owner === 'other-installation'
              ? `belongs to another installation (AUTH database "${ownership.installation}")`
              : 'exists but was not created by this tool',
        });
        continue;
      }
      if (!splitComplete && !(splitRecorded && recorded.has(name))) {
        // Marked as ours but unknown to the journal (journal lost, DB_AUTH_NAME changed): resuming
        // would truncate its tables, so only an empty schema (a crash right after creation) is resumed.
        const rows = await this.connections.withClient(location, (client) => tablesWithRows(client), {
          applicationName: 'topsteel-dry-run',
        });
        if (rows.length > 0) {
          databases.push({
            name,
            kind,
            action: 'refused',
            reason: `holds data (${rows.slice(0, 3).join(', ')}${rows.length > 3 ? ', …' : ''}) but ${config.authDatabase} records no split in progress for it: refusing to overwrite`,
          });
          continue;
        }
      }
      databases.push({ name, kind, action: splitComplete ? 'complete' : 'resume' });
      targets[kind] = await this.connections.withClient(location, (client) => readTargetSchema(client), {
        applicationName: 'topsteel-dry-run',
      });
    }
    return { databases, targets, splitComplete };
  }

  private report(
    checks: Check[],
    plan: {
      databases: PlannedDatabase[];
      tables: DryRunReport['plan']['tables'];
      excluded: ResolvedExclusion[];
    } | null,
    findings: Finding[],
    notes: string[],
    totalRows: number,
  ): DryRunReport {
    return {
      ok: checks.every((entry) => entry.ok),
      checks,
      plan: {
        databases: plan?.databases ?? [],
        tables: plan?.tables ?? [],
        excluded: plan?.excluded ?? [],
        cutReferences: DEFAULT_PLAN.cutReferences,
        newTables: DEFAULT_PLAN.newTables,
        totalRows,
      },
      findings,
      notes,
    };
  }
}
