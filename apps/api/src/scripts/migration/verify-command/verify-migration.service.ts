import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { SocieteRegistryService } from '../../../modules/societes/societe-registry.service';
import { TableCopyState } from '../../../modules/database/journal/journal.types';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { CopyTask, readTargetSchema, resolvePlan } from '../plan/plan-resolver';
import { splitLocations } from '../targets/split-targets';
import { danglingAcrossDatabases } from '../verify/reference-check';
import {
  referenceName,
  ReferenceVerification,
  TableVerification,
  taskKey,
  verifySplit,
} from '../verify/split-verifier';
import { Check } from '../../../common/run/check';

export type VerifyReport = {
  ok: boolean;
  comparedWith: 'monolith' | 'journal';
  checks: Check[];
  tables: TableVerification[];
  references: ReferenceVerification[];
  counts: Record<string, number>;
};

/**
 * `db:verify`: the split's verification on demand (counts and checksums against the monolith, or
 * against what the journal recorded when the monolith is gone; cut references; every tenant),
 * plus every user linked to a société and every tenant database closed to PUBLIC.
 */
@Injectable()
export class VerifyMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly journal: MigrationJournalService,
    private readonly societes: SocieteRegistryService,
  ) {}

  async verify(options: { jobs: number }): Promise<VerifyReport> {
    const config = this.configService.config;
    const journal = await this.journal.read();
    if (!journal?.split) {
      throw new MigrationException(
        MigrationExceptionCode.NoSource,
        `no split recorded in ${config.authDatabase}: nothing to verify`,
      );
    }
    const locations = splitLocations(config);
    const monolith = { database: config.monolithDatabase };
    const monolithExists = await this.admin.exists(monolith);
    let planBlockers: string[] = [];
    const tasks = monolithExists
      ? await this.tasksFromMonolith(
          monolith,
          locations,
          journal.split.excludedTables,
          (blockers) => (planBlockers = blockers),
        )
      : await this.tasksFromTargets(locations, journal.tables);
    const expected = new Map(
      journal.tables
        .filter((table) => table.checksum !== null)
        .map((table) => {
          const kind =
            (Object.keys(locations) as SchemaKind[]).find(
              (candidate) => locations[candidate].database === table.targetDatabase,
            ) ?? 'tenant';
          return [
            taskKey(kind, table.targetTable),
            { rows: table.rows ?? 0, checksum: table.checksum ?? '' },
          ];
        }),
    );
    const societeId = journal.split.societeId ?? (await this.defaultSocieteId());
    const verification = await verifySplit(this.connections, {
      societeId,
      tasks,
      cutReferences: DEFAULT_PLAN.cutReferences,
      locations,
      source: monolithExists ? monolith : undefined,
      expected,
      referenceBaselines: journal.referenceBaselines,
      jobs: options.jobs,
    });

    const checks: Check[] = [];
    checks.push({
      id: 'schema',
      label: 'the monolith still matches the plan, every foreign key is validated',
      ok: verification.problems.length === 0 && planBlockers.length === 0,
      detail:
        [...planBlockers, ...verification.problems].join('; ') ||
        `no drift, no unvalidated key${journal.split.excludedTables.length > 0 ? ` (left behind knowingly with --exclude-table: ${journal.split.excludedTables.join(', ')})` : ''}`,
    });
    const mismatched = verification.tables.filter((table) => !table.ok);
    checks.push({
      id: 'tables',
      label: `row counts and checksums equal (${monolithExists ? 'against the monolith' : 'against the journal'})`,
      ok: mismatched.length === 0,
      detail:
        mismatched.length === 0
          ? `${verification.tables.length} tables`
          : mismatched.map((table) => describeMismatch(table)).join('; '),
    });
    const dangling = verification.references.filter((reference) => !reference.ok);
    checks.push({
      id: 'references',
      label: 'no cross-database reference dangles that did not dangle in the monolith',
      ok: dangling.length === 0,
      detail:
        dangling.length === 0
          ? `${verification.references.length} references`
          : dangling
              .map(
                (reference) =>
                  `${reference.reference}: ${reference.targetDangling} (was ${reference.sourceDangling})`,
              )
              .join('; '),
    });

    const societes = await this.societes.list();
    const others = societes.filter((societe) => societe.database !== locations.tenant.database);
    const otherProblems: string[] = [];
    for (const societe of others) {
      otherProblems.push(
        ...(await this.tenantReferences(
          { database: societe.database, server: societe.server, host: societe.host, port: societe.port },
          locations,
        )),
      );
    }
    if (others.length > 0) {
      checks.push({
        id: 'other-tenants',
        label: `references of the ${others.length} other société(s) resolve`,
        ok: otherProblems.length === 0,
        detail: otherProblems.join('; ') || 'none dangling',
      });
    }

    const counts = await this.connections.withClient(locations.auth, (client) =>
      this.authChecks(client, checks),
    );
    const closed = await this.connections.withClient(
      { database: config.maintenanceDatabase },
      async (client) => {
        const result = await client.query<{ name: string; open: boolean }>(
          "SELECT datname AS name, has_database_privilege('public', datname, 'CONNECT') AS open FROM pg_database WHERE datname = ANY($1::text[])",
          [
            societes
              .filter((societe) => !societe.host && (societe.server ?? 'default') === 'default')
              .map((societe) => societe.database),
          ],
        );
        return result.rows;
      },
    );
    const open = closed.filter((row) => row.open);
    checks.push({
      id: 'isolation',
      label: 'tenant databases refuse CONNECT from PUBLIC',
      ok: open.length === 0,
      detail:
        open.length === 0
          ? `${closed.length} tenant database(s) closed to PUBLIC`
          : `open to PUBLIC: ${open.map((row) => row.name).join(', ')} (REVOKE CONNECT ON DATABASE ... FROM PUBLIC)`,
    });
    for (const [name, location] of [
      ['shared_materials', locations.shared],
      ['clients', locations.tenant],
      ['commandes', locations.tenant],
    ] as const) {
      counts[name] = await this.connections.withClient(location, async (client) =>
        Number(
          (await client.query<{ count: string }>(`SELECT count(*) AS count FROM public.${name}`)).rows[0]
            .count,
        ),
      );
    }
    return {
      ok: checks.every((check) => check.ok),
      comparedWith: monolithExists ? 'monolith' : 'journal',
      checks,
      tables: verification.tables,
      references: verification.references,
      counts,
    };
  }

  /** The default société, for sources that predate the journal recording its id. */
  private async defaultSocieteId(): Promise<string> {
    const config = this.configService.config;
    return this.connections.withClient({ database: config.authDatabase }, async (client) => {
      const result = await client.query<{ id: string }>(
        'SELECT id FROM societes WHERE upper(code) = upper($1)',
        [config.defaultSocieteCode],
      );
      if (!result.rows[0])
        throw new MigrationException(
          MigrationExceptionCode.NoSource,
          `no société ${config.defaultSocieteCode.toUpperCase()} in ${config.authDatabase}`,
        );
      return result.rows[0].id;
    });
  }

  /** The guide's verification queries on AUTH. */
  private async authChecks(client: Client, checks: Check[]): Promise<Record<string, number>> {
    const result = await client.query<{
      users: string;
      societes: string;
      unlinked: string;
      orphan_links: string;
    }>(
      `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM societes) AS societes,
              (SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM societe_users su WHERE su.user_id = u.id)) AS unlinked,
              (SELECT count(*) FROM societe_users su WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = su.user_id)) AS orphan_links`,
    );
    const row = result.rows[0];
    checks.push({
      id: 'users-linked',
      label: 'every user is linked to a société',
      ok: Number(row.unlinked) === 0,
      detail: `${row.unlinked} user(s) without société`,
    });
    checks.push({
      id: 'links-valid',
      label: 'every société_users row names an existing user',
      ok: Number(row.orphan_links) === 0,
      detail: `${row.orphan_links} orphan link(s)`,
    });
    return { users: Number(row.users), societes: Number(row.societes) };
  }

  private async tasksFromMonolith(
    monolith: DatabaseLocation,
    locations: Record<SchemaKind, DatabaseLocation>,
    excludeTables: string[],
    onBlockers: (blockers: string[]) => void,
  ): Promise<CopyTask[]> {
    const targets = await this.liveTargets(locations);
    return this.connections.withClient(
      monolith,
      async (client) => {
        // The tables the split left behind knowingly (recorded by db:migrate) are not expected either.
        const validation = await resolvePlan(client, DEFAULT_PLAN, { targets, excludeTables });
        // A table or column the targets cannot hold is as much a verification failure as a checksum.
        onBlockers(
          validation.findings
            .filter((finding) => finding.severity === 'blocker')
            .map((finding) => finding.message),
        );
        return validation.plan.tasks;
      },
      { readOnly: true, applicationName: 'topsteel-verify' },
    );
  }

  /**
   * Without the monolith, a table is checked over the columns the journal says its checksum covered
   * (columns added later by schema migrations are not part of it); older records fall back to the
   * target columns the plan did not add.
   */
  private async tasksFromTargets(
    locations: Record<SchemaKind, DatabaseLocation>,
    recorded: TableCopyState[],
  ): Promise<CopyTask[]> {
    const targets = await this.liveTargets(locations);
    return DEFAULT_PLAN.tables.flatMap((table) => {
      const columns = targets[table.database].tables.get(table.target);
      if (!columns) return [];
      const added = new Set(table.addedColumns.map((column) => column.name));
      const state = recorded.find(
        (entry) =>
          entry.targetDatabase === locations[table.database].database && entry.targetTable === table.target,
      );
      const covered = state?.checksumColumns ?? columns.map((column) => column.name);
      return [
        {
          source: table.source,
          target: table.target,
          database: table.database,
          columns: covered
            .filter((name) => !added.has(name))
            .map((name) => {
              const type = columns.find((column) => column.name === name)?.type ?? 'unknown';
              return { name, sourceType: type, targetType: type };
            }),
          addedColumns: table.addedColumns,
          estimatedRows: 0,
          sizeBytes: 0,
          readable: true,
        },
      ];
    });
  }

  private async liveTargets(locations: Record<SchemaKind, DatabaseLocation>) {
    const read = (location: DatabaseLocation) =>
      this.connections.withClient(location, (client) => readTargetSchema(client), {
        applicationName: 'topsteel-verify',
      });
    return {
      auth: await read(locations.auth),
      shared: await read(locations.shared),
      tenant: await read(locations.tenant),
    };
  }

  /** A société created after the split: none of its references may dangle. */
  private async tenantReferences(
    tenant: DatabaseLocation,
    locations: Record<SchemaKind, DatabaseLocation>,
  ): Promise<string[]> {
    const problems: string[] = [];
    for (const reference of DEFAULT_PLAN.cutReferences.filter(
      (candidate) => candidate.from.database === 'tenant' && candidate.to.database !== 'tenant',
    )) {
      const referencing = await this.connections.connect(tenant, { applicationName: 'topsteel-verify' });
      const referenced = await this.connections.connect(locations[reference.to.database], {
        applicationName: 'topsteel-verify',
      });
      try {
        const count = await danglingAcrossDatabases(referencing, referenced, reference);
        if (count > 0) problems.push(`${tenant.database}: ${referenceName(reference)} ${count} dangling`);
      } finally {
        await referencing.end().catch(() => undefined);
        await referenced.end().catch(() => undefined);
      }
    }
    return problems;
  }
}

function describeMismatch(table: TableVerification): string {
  if (table.sourceRows !== table.targetRows)
    return `${table.database}.${table.target}: ${table.targetRows} rows, expected ${table.sourceRows}`;
  return `${table.database}.${table.target}: same ${table.targetRows} rows but content differs (checksum ${table.targetChecksum}, expected ${table.sourceChecksum})`;
}
