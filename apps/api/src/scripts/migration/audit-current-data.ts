import { Injectable } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../modules/database/postgres-connection.factory';
import { danglingChecks, dataQualityChecks, orphanChecks } from './audit/audit-checks';
import { AuditReport, AuditTable } from './audit/audit-report';
import { runCheck } from './audit/check-runner';
import { recommend } from './audit/recommendations';
import { structureFindings } from './audit/structure-findings';
import { surveyTables } from './audit/table-survey';
import { DEFAULT_PLAN, SESSION_EXPIRY_SQL } from './plan/default-plan';
import { countBySeverity, Finding } from './plan/finding';
import { PlanValidation, resolvePlan } from './plan/plan-resolver';
import { UNCONSTRAINED_REFERENCES } from './plan/references';

// The CLI and the tests import the report's shape from here, the file the migration guide names.
export { AuditReport, AuditTable } from './audit/audit-report';

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
    const survey = await surveyTables(client, validation);
    const findings: Finding[] = [
      ...validation.findings,
      ...(await structureFindings(client, survey, validation)),
    ];
    const checks = [
      ...dataQualityChecks({
        sessionExpiresAt: SESSION_EXPIRY_SQL,
        testEmailDomains: config.cleanTestEmailDomains,
        testTables: survey.tables.filter((table) => /^test_/.test(table.name)).map((table) => table.name),
      }),
      ...orphanChecks(UNCONSTRAINED_REFERENCES),
      ...danglingChecks(DEFAULT_PLAN.cutReferences),
    ];
    for (const check of checks) {
      const finding = await runCheck(client, check, survey.columns);
      if (finding && (finding.count ?? 0) > 0) findings.push(finding);
    }
    return {
      database: config.monolithDatabase,
      generatedAt: new Date().toISOString(),
      serverVersion: version.rows[0].server_version,
      summary: summarize(survey.tables, findings),
      tables: survey.tables,
      coverage: coverage(validation),
      findings,
      recommendations: recommend(findings),
    };
  }
}

function summarize(tables: AuditTable[], findings: Finding[]): AuditReport['summary'] {
  const counts = countBySeverity(findings);
  return {
    tables: tables.length,
    rows: tables.reduce((sum, table) => sum + table.rows, 0),
    softDeleted: tables.reduce((sum, table) => sum + (table.softDeleted ?? 0), 0),
    sizeBytes: tables.reduce((sum, table) => sum + table.sizeBytes, 0),
    blockers: counts.blocker,
    warnings: counts.warning,
    infos: counts.info,
  };
}

function coverage(validation: PlanValidation): AuditReport['coverage'] {
  return {
    planned: validation.plan.tasks.length,
    excluded: validation.plan.excluded,
    unknownTables: validation.findings
      .filter((finding) => finding.code === 'UNKNOWN_TABLE')
      .map((finding) => finding.table ?? ''),
    unknownColumns: validation.findings
      .filter((finding) => finding.code === 'UNKNOWN_COLUMN')
      .map((finding) => `${finding.table}.${finding.column}`),
  };
}
