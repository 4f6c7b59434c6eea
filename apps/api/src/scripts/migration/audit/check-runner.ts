import { Client, QueryResult } from 'pg';
import { CatalogueColumn } from '../catalogue/catalogue';
import { Finding } from '../plan/finding';
import { AuditCheck } from './audit-checks';

/** Runs one check inside a savepoint; a check whose columns are missing is reported as skipped. */
export async function runCheck(
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
