import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { Finding } from '../plan/finding';
import { PlanValidation } from '../plan/plan-resolver';
import { TableSurvey } from './table-survey';

/** What the survey itself shows: tables without a key (and their duplicates), soft-deleted and excluded rows. */
export async function structureFindings(
  client: Client,
  survey: TableSurvey,
  validation: PlanValidation,
): Promise<Finding[]> {
  const findings = await keylessTableFindings(client, survey);
  const softDeleted = survey.tables.reduce((sum, table) => sum + (table.softDeleted ?? 0), 0);
  if (softDeleted > 0) {
    findings.push({
      code: 'SOFT_DELETED_ROWS',
      severity: 'info',
      count: softDeleted,
      message: `${softDeleted} soft-deleted row(s) (deleted_at set) are migrated like the others`,
    });
  }
  for (const exclusion of validation.plan.excluded) {
    const table = survey.tables.find((candidate) => candidate.name === exclusion.source);
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
  return findings;
}

/** A table without a primary key is copied as it is, exact duplicates included: the audit says so. */
async function keylessTableFindings(client: Client, survey: TableSurvey): Promise<Finding[]> {
  const findings: Finding[] = [];
  const keyless = survey.tables.filter((table) => !table.hasPrimaryKey && !survey.unreadable.has(table.name));
  for (const table of keyless) {
    findings.push({
      code: 'NO_PRIMARY_KEY',
      severity: 'info',
      table: table.name,
      count: table.rows,
      message: `${table.name} has no primary key (${table.rows} rows)`,
    });
    const [schema, name] = table.name.includes('.') ? table.name.split('.') : ['public', table.name];
    const duplicates = await client.query<{ count: string }>(
      `SELECT count(*) - count(DISTINCT t::text) AS count FROM ${quoteQualified(schema, name)} AS t`,
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
  return findings;
}
