import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { Finding } from './finding';
import { MigrationPlan } from './plan.types';
import { CopyTask } from './resolved-plan.types';
import { countWhere } from './table-resolution';

/**
 * A planned table left behind with --exclude-table may be the parent of a foreign key that the
 * target keeps (both tables in the same target database): its children's rows would be copied,
 * then the key could not be validated. Caught here, before anything is written, with the tables to
 * exclude along (or the exclusion to drop).
 */
export async function checkExcludedParents(
  client: Client,
  plan: MigrationPlan,
  operatorExclusions: Set<string>,
  tasks: CopyTask[],
  findings: Finding[],
): Promise<void> {
  const excludedPlanned = plan.tables.filter((table) => operatorExclusions.has(table.source));
  if (excludedPlanned.length === 0) return;
  const keys = await client.query<{ child: string; parent: string; name: string; columns: string[] }>(
    `SELECT c.relname AS child, p.relname AS parent, k.conname AS name,
            array(SELECT a.attname::text FROM unnest(k.conkey) u(n)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n) AS columns
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace cn ON cn.oid = c.relnamespace JOIN pg_namespace pn ON pn.oid = p.relnamespace
     WHERE k.contype = 'f' AND cn.nspname = 'public' AND pn.nspname = 'public' AND c.oid <> p.oid
     ORDER BY 1, 3`,
  );
  for (const parent of excludedPlanned) {
    for (const key of keys.rows.filter((row) => row.parent === parent.source)) {
      const child = tasks.find((task) => task.source === key.child && task.readable);
      if (!child || child.database !== parent.database) continue;
      const rows = await countWhere(
        client,
        key.child,
        key.columns.map((column) => `${quoteIdentifier(column)} IS NOT NULL`).join(' AND '),
      );
      if (rows === 0) continue;
      findings.push({
        code: 'EXCLUDED_PARENT',
        severity: 'blocker',
        table: key.child,
        column: key.columns.join(', '),
        count: rows,
        message:
          `--exclude-table ${parent.source}: ${rows} row(s) of ${key.child} reference it (${key.name}), and ` +
          `${parent.database}.${child.target} keeps that foreign key`,
        hint: `exclude ${key.child} as well, or keep ${parent.source} in the split`,
      });
    }
  }
}

/**
 * Added columns computed from an expression (user_sessions.expires_at) are evaluated over every
 * source row, so a value the expression cannot compute (a timestamp pushed past year 294276) is a
 * blocker now rather than a failed COPY later. Runs inside the caller's transaction, each table
 * under a savepoint so that one failure does not end the pre-flight.
 */
export async function checkDerivedColumns(client: Client, tasks: CopyTask[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const task of tasks.filter((candidate) => candidate.readable)) {
    for (const column of task.addedColumns) {
      if (column.fill.kind !== 'expression') continue;
      await client.query('SAVEPOINT derived_column');
      try {
        await client.query(`SELECT count(${column.fill.sql}) FROM ${quoteQualified('public', task.source)}`);
        await client.query('RELEASE SAVEPOINT derived_column');
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT derived_column');
        findings.push({
          code: 'DERIVED_COLUMN_FAILS',
          severity: 'blocker',
          table: task.source,
          column: column.name,
          message:
            `${task.database}.${task.target}.${column.name} cannot be computed for every row of ${task.source}: ` +
            `${(error as Error).message} (rule: ${column.rule})`,
          hint: `fix, in the monolith, the values of ${task.source} that the rule reads, then run the command again`,
        });
      }
    }
  }
  return findings;
}
