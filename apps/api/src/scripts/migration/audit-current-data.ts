import { Injectable } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, QueryResult } from 'pg';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../modules/database/postgres-connection.factory';
import { AuditCheck, danglingChecks, dataQualityChecks, orphanChecks } from './audit/audit-checks';
import { recommend } from './audit/recommendations';
import { CatalogueColumn, listColumns, listRelations, tableStatistics } from './catalogue/catalogue';
import { DEFAULT_PLAN, SESSION_EXPIRY_SQL } from './plan/default-plan';
import { countBySeverity, Finding } from './plan/finding';
import { ResolvedExclusion, resolvePlan } from './plan/plan-resolver';
import { UNCONSTRAINED_REFERENCES } from './plan/references';

export type AuditTable = {
  name: string;
  rows: number;
  softDeleted: number | null;
  sizeBytes: number;
  hasPrimaryKey: boolean;
  destination: string;
};

export type AuditReport = {
  database: string;
  generatedAt: string;
  serverVersion: string;
  summary: {
    tables: number;
    rows: number;
    softDeleted: number;
    sizeBytes: number;
    blockers: number;
    warnings: number;
    infos: number;
  };
  tables: AuditTable[];
  coverage: {
    planned: number;
    excluded: ResolvedExclusion[];
    unknownTables: string[];
    unknownColumns: string[];
  };
  findings: Finding[];
  recommendations: string[];
  reportPath: string;
};

export type AuditOptions = { excludeTables?: string[] };

/**
 * `db:audit`: per-table rows, soft-deleted rows, size and destination; plan coverage; data-quality
 * findings with severity and counts; recommendations computed from them. Reads the monolith in one
 * read-only snapshot and writes the JSON report under LOG_DIR.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  async audit(options: AuditOptions = {}): Promise<AuditReport> {
    const config = this.configService.config;
    const report = await this.connections.withClient(
      { database: config.monolithDatabase },
      async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          return await this.collect(client, options);
        } finally {
          await client.query('ROLLBACK');
        }
      },
      { readOnly: true, applicationName: 'topsteel-audit' },
    );
    mkdirSync(config.logDir, { recursive: true });
    const reportPath = join(config.logDir, `audit-${report.generatedAt.replace(/[:.]/g, '-')}.json`);
    const full = { ...report, reportPath };
    writeFileSync(reportPath, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
    return full;
  }

  private async collect(client: Client, options: AuditOptions): Promise<Omit<AuditReport, 'reportPath'>> {
    const config = this.configService.config;
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const validation = await resolvePlan(client, DEFAULT_PLAN, {
      excludeTables: options.excludeTables,
      checkDerivedColumns: true,
    });
    const relations = (await listRelations(client)).filter(
      (relation) => relation.kind === 'r' || relation.kind === 'p',
    );
    const columns = await listColumns(client, 'public');
    // A table the role cannot fully read is described from the catalogue only (its blocker says why).
    const statistics = await tableStatistics(
      client,
      relations
        .filter((relation) => relation.readable && !relation.rowSecurity)
        .map((relation) => ({
          ...relation,
          softDeleteColumn:
            relation.schema === 'public' &&
            columns.get(relation.name)?.some((column) => column.name === 'deleted_at')
              ? 'deleted_at'
              : undefined,
        })),
    );
    const destinationOf = (name: string): string => {
      const task = validation.plan.tasks.find((candidate) => candidate.source === name);
      if (task) return `${task.database}.${task.target}`;
      const exclusion = validation.plan.excluded.find((candidate) => candidate.source === name);
      return exclusion ? `excluded: ${exclusion.reason}` : 'unplanned';
    };
    const tables: AuditTable[] = relations.map((relation) => {
      const name = relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`;
      const stats = statistics.get(`${relation.schema}.${relation.name}`);
      return {
        name,
        rows: stats?.rows ?? 0,
        softDeleted: stats?.softDeleted ?? null,
        sizeBytes: relation.sizeBytes,
        hasPrimaryKey: relation.hasPrimaryKey,
        destination: destinationOf(name),
      };
    });

    const findings: Finding[] = [...validation.findings];
    const unreadable = new Set(
      relations
        .filter((relation) => !relation.readable || relation.rowSecurity)
        .map((relation) =>
          relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`,
        ),
    );
    for (const table of tables.filter(
      (candidate) => !candidate.hasPrimaryKey && !unreadable.has(candidate.name),
    )) {
      findings.push({
        code: 'NO_PRIMARY_KEY',
        severity: 'info',
        table: table.name,
        count: table.rows,
        message: `${table.name} has no primary key (${table.rows} rows)`,
      });
      const [schema, name] = table.name.includes('.') ? table.name.split('.') : ['public', table.name];
      const duplicates = await client.query<{ count: string }>(
        `SELECT count(*) - count(DISTINCT t::text) AS count FROM "${schema.replace(/"/g, '""')}"."${name.replace(/"/g, '""')}" AS t`,
      );
      const count = Number(duplicates.rows[0].count);
      if (count > 0)
        findings.push({
          code: 'DUPLICATE_ROWS',
          severity: 'info',
          table: table.name,
          count,
          message: `${table.name} holds ${count} exact duplicate row(s); they are copied too`,
        });
    }
    const softDeleted = tables.reduce((sum, table) => sum + (table.softDeleted ?? 0), 0);
    if (softDeleted > 0) {
      findings.push({
        code: 'SOFT_DELETED_ROWS',
        severity: 'info',
        count: softDeleted,
        message: `${softDeleted} soft-deleted row(s) (deleted_at set) are migrated like the others`,
      });
    }
    for (const exclusion of validation.plan.excluded) {
      const table = tables.find((candidate) => candidate.name === exclusion.source);
      if (table && table.rows > 0) {
        findings.push({
          code: 'EXCLUDED_TABLE_ROWS',
          severity: 'info',
          table: table.name,
          count: table.rows,
          message: `${table.rows} row(s) of ${table.name} stay in the monolith: ${exclusion.reason}`,
        });
      }
    }

    const checks = [
      ...dataQualityChecks({
        sessionExpiresAt: SESSION_EXPIRY_SQL,
        testEmailDomains: config.cleanTestEmailDomains,
        testTables: tables.filter((table) => /^test_/.test(table.name)).map((table) => table.name),
      }),
      ...orphanChecks(UNCONSTRAINED_REFERENCES),
      ...danglingChecks(DEFAULT_PLAN.cutReferences),
    ];
    for (const check of checks) {
      const finding = await runCheck(client, check, columns);
      if (finding && (finding.count ?? 0) > 0) findings.push(finding);
    }

    const counts = countBySeverity(findings);
    return {
      database: config.monolithDatabase,
      generatedAt: new Date().toISOString(),
      serverVersion: version.rows[0].server_version,
      summary: {
        tables: tables.length,
        rows: tables.reduce((sum, table) => sum + table.rows, 0),
        softDeleted,
        sizeBytes: tables.reduce((sum, table) => sum + table.sizeBytes, 0),
        blockers: counts.blocker,
        warnings: counts.warning,
        infos: counts.info,
      },
      tables,
      coverage: {
        planned: validation.plan.tasks.length,
        excluded: validation.plan.excluded,
        unknownTables: validation.findings
          .filter((finding) => finding.code === 'UNKNOWN_TABLE')
          .map((finding) => finding.table ?? ''),
        unknownColumns: validation.findings
          .filter((finding) => finding.code === 'UNKNOWN_COLUMN')
          .map((finding) => `${finding.table}.${finding.column}`),
      },
      findings,
      recommendations: recommend(findings),
    };
  }
}

/** Runs one check inside a savepoint; a check whose columns are missing is reported as skipped. */
async function runCheck(
  client: Client,
  check: AuditCheck,
  columns: Map<string, CatalogueColumn[]>,
): Promise<Finding | null> {
  const missing = check.requires.flatMap((requirement) => {
    const present = columns.get(requirement.table);
    if (!present) return [requirement.table];
    return requirement.columns
      .filter((column) => !present.some((candidate) => candidate.name === column))
      .map((column) => `${requirement.table}.${column}`);
  });
  if (missing.length > 0) {
    return {
      code: 'CHECK_SKIPPED',
      severity: 'info',
      table: check.table,
      count: 1,
      message: `${check.code} not checked: ${missing.join(', ')} missing from the source`,
    };
  }
  // A failing check (a table the role cannot read, say) must not abort the audit's snapshot transaction.
  await client.query('SAVEPOINT audit_check');
  let result: QueryResult<{ count: string; sample?: string[] | null }>;
  try {
    result = await client.query<{ count: string; sample?: string[] | null }>(check.sql, check.parameters);
    await client.query('RELEASE SAVEPOINT audit_check');
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT audit_check');
    return {
      code: 'CHECK_FAILED',
      severity: 'warning',
      table: check.table,
      count: 1,
      message: `${check.code} could not run: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const count = Number(result.rows[0]?.count ?? 0);
  return {
    code: check.code,
    severity: check.severity,
    table: check.table,
    column: check.column,
    count,
    sample: result.rows[0]?.sample?.filter(Boolean) ?? undefined,
    message: check.message(count),
  };
}
