import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { CatalogueColumn } from '../catalogue/catalogue';
import { Finding } from './finding';
import { LEGACY_COLUMNS } from './legacy-columns';
import { MigrationPlan } from './plan.types';
import { CopyColumn, CopyTask, TargetColumn } from './resolved-plan.types';
import { isCompatibleType } from './type-compatibility';

/** `client` is undefined when the table cannot be read: only its catalogue is checked then. */
export async function resolveTable(
  client: Client | undefined,
  source: string,
  sourceColumns: CatalogueColumn[],
  targetColumns: TargetColumn[],
  table: MigrationPlan['tables'][number],
  findings: Finding[],
  enumLabels: (type: string) => readonly string[],
): Promise<Omit<CopyTask, 'estimatedRows' | 'sizeBytes' | 'readable'>> {
  const added = new Set(table.addedColumns.map((column) => column.name));
  const targetByName = new Map(targetColumns.map((column) => [column.name, column]));
  const columns: CopyColumn[] = [];
  for (const column of sourceColumns) {
    const target = targetByName.get(column.name);
    if (!target || added.has(column.name)) {
      findings.push({
        code: 'UNKNOWN_COLUMN',
        severity: 'blocker',
        table: source,
        column: column.name,
        message: `column ${source}.${column.name} (${column.type}) has no place in ${table.database}.${table.target}: its values would be lost`,
        hint: `add the column to the ${table.database} migrations and the plan, or drop it from the monolith knowingly`,
      });
      continue;
    }
    if (!isCompatibleType(column.type, target.type)) {
      findings.push({
        code: 'INCOMPATIBLE_TYPE',
        severity: 'blocker',
        table: source,
        column: column.name,
        message: `column ${source}.${column.name} is ${column.type} in the source but ${target.type} in ${table.database}.${table.target}`,
        hint: 'align the types (a migration on the target, or a fix in the monolith) before migrating',
      });
      continue;
    }
    if (client && column.nullable && !target.nullable) {
      const nulls = await countWhere(client, source, `${quoteIdentifier(column.name)} IS NULL`);
      if (nulls > 0) {
        findings.push({
          code: 'NULL_INTO_NOT_NULL',
          severity: 'blocker',
          table: source,
          column: column.name,
          count: nulls,
          message: `${nulls} row(s) of ${source} have ${column.name} NULL, which ${table.database}.${table.target} refuses`,
        });
      }
    }
    if (client && column.enumType)
      await checkEnumValues(client, source, column, target, findings, enumLabels(target.type));
    columns.push({ name: column.name, sourceType: column.type, targetType: target.type });
  }
  const fed = new Set([...columns.map((column) => column.name), ...added]);
  findings.push(...unfedTargetFindings(source, table, targetColumns, fed));
  return {
    source,
    target: table.target,
    database: table.database,
    columns,
    addedColumns: table.addedColumns,
  };
}

/** Target columns nothing in the source feeds: a blocker when NOT NULL without default, else a warning. */
function unfedTargetFindings(
  source: string,
  table: MigrationPlan['tables'][number],
  targetColumns: TargetColumn[],
  fed: Set<string>,
): Finding[] {
  const findings: Finding[] = [];
  for (const target of targetColumns) {
    if (fed.has(target.name)) continue;
    const missingFromSource = LEGACY_COLUMNS[source]?.some(([name]) => name === target.name) ?? false;
    if (!target.nullable && !target.hasDefault) {
      findings.push({
        code: 'NOT_NULL_NOT_FED',
        severity: 'blocker',
        table: source,
        column: target.name,
        message: `${table.database}.${table.target}.${target.name} is NOT NULL without default and nothing in the source feeds it`,
      });
    } else if (missingFromSource) {
      findings.push({
        code: 'SOURCE_COLUMN_ABSENT',
        severity: 'warning',
        table: source,
        column: target.name,
        message: `column ${source}.${target.name} is missing from the source; ${table.database}.${table.target}.${target.name} gets its default`,
      });
    }
  }
  return findings;
}

export async function countWhere(client: Client, table: string, condition: string): Promise<number> {
  const result = await client.query<{ count: string }>(
    `SELECT count(*) AS count FROM ${quoteQualified('public', table)} WHERE ${condition}`,
  );
  return Number(result.rows[0].count);
}

async function checkEnumValues(
  client: Client,
  table: string,
  column: CatalogueColumn,
  target: TargetColumn,
  findings: Finding[],
  labels: readonly string[],
): Promise<void> {
  const values = await client.query<{ value: string; count: string }>(
    `SELECT ${quoteIdentifier(column.name)}::text AS value, count(*) AS count FROM ${quoteQualified('public', table)}
     WHERE ${quoteIdentifier(column.name)} IS NOT NULL GROUP BY 1`,
  );
  for (const row of values.rows) {
    if (!labels.includes(row.value)) {
      findings.push({
        code: 'UNKNOWN_ENUM_VALUE',
        severity: 'blocker',
        table,
        column: column.name,
        count: Number(row.count),
        sample: [row.value],
        message: `value '${row.value}' of ${table}.${column.name} (${Number(row.count)} rows) does not exist in the target enum ${target.type}`,
        hint: `add the value to ${target.type} on the target (ALTER TYPE ... ADD VALUE) in a migration`,
      });
    }
  }
}
