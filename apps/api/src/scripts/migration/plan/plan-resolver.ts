import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { CatalogueColumn, CatalogueTable, listColumns, listRelations } from '../catalogue/catalogue';
import { Finding } from './finding';
import { LEGACY_COLUMNS, LEGACY_ENUMS } from './legacy-columns';
import { AddedColumn, CutReference, ExcludedTable, MigrationPlan } from './plan.types';
import { isCompatibleType } from './type-compatibility';

export type CopyColumn = { name: string; sourceType: string; targetType: string };

/** One table to copy, with the exact column list both sides share. */
export type CopyTask = {
  source: string;
  target: string;
  database: SchemaKind;
  columns: CopyColumn[];
  addedColumns: AddedColumn[];
  estimatedRows: number;
  sizeBytes: number;
  /** The role can read every row (SELECT granted, no row-level security in the way). */
  readable: boolean;
};

export type ResolvedExclusion = ExcludedTable & { by: 'plan' | 'operator' };

export type ResolvedPlan = {
  tasks: CopyTask[];
  excluded: ResolvedExclusion[];
  cutReferences: CutReference[];
};

/** `present`: the public tables that exist in the source. */
export type PlanValidation = { plan: ResolvedPlan; findings: Finding[]; present: Set<string> };

/** A target column as the migrations create it. */
export type TargetColumn = { name: string; type: string; nullable: boolean; hasDefault: boolean };

/** A target database's tables and enum labels, read live; before it exists the contract stands in. */
export type TargetSchema = { tables: Map<string, TargetColumn[]>; enums: Map<string, string[]> };
export type TargetSchemas = Partial<Record<SchemaKind, TargetSchema>>;

export type ResolveOptions = {
  /** Tables the operator leaves behind knowingly (`--exclude-table`), as "name" or "schema.name". */
  excludeTables?: string[];
  targets?: TargetSchemas;
  /**
   * Also evaluate the derived added columns over every source row (checkDerivedColumns). Needs the
   * caller's open transaction (savepoints); the pre-flight and the audit set it.
   */
  checkDerivedColumns?: boolean;
};

const qualifiedName = (table: { schema: string; name: string }): string =>
  table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;

/** What the 001 migrations create for a planned table, without connecting to a target. */
export function contractTargetColumns(source: string, added: AddedColumn[]): TargetColumn[] {
  const legacy = (LEGACY_COLUMNS[source] ?? []).map(([name, type, nullable]) => ({
    name,
    type,
    nullable,
    hasDefault: false,
  }));
  return [
    ...legacy,
    ...added.map((column) => ({
      name: column.name,
      type: column.type,
      nullable: column.name !== 'societe_id',
      hasDefault: false,
    })),
  ];
}

/** Columns and enum labels of a live target database. */
export async function readTargetSchema(client: Client): Promise<TargetSchema> {
  const columns = await listColumns(client, 'public');
  const enums = await client.query<{ type: string; labels: string[] }>(
    `SELECT t.typname AS type, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
     FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = 'public' GROUP BY t.typname`,
  );
  return {
    tables: new Map(
      [...columns].map(([table, list]) => [
        table,
        list.map(({ name, type, nullable, hasDefault }) => ({ name, type, nullable, hasDefault })),
      ]),
    ),
    enums: new Map(enums.rows.map((row) => [row.type, row.labels])),
  };
}

/**
 * Holds the plan against the live source catalogue (DESIGN.md section 4): every source table must
 * be planned or excluded by name, every source column must exist on its target with a compatible
 * type, every NOT NULL target column must be fed, every enum value in the data must exist on the
 * target. Produces the copy tasks (the exact shared column lists) and the findings; a blocker
 * names the table, column or value.
 */
export async function resolvePlan(
  client: Client,
  plan: MigrationPlan,
  options: ResolveOptions = {},
): Promise<PlanValidation> {
  const findings: Finding[] = [];
  const operatorExclusions = new Set(
    (options.excludeTables ?? []).map((name) => name.replace(/^public\./, '')),
  );
  const relations = await listRelations(client);
  const sourceColumns = await listColumns(client, 'public');
  const planned = new Map(plan.tables.map((table) => [table.source, table]));
  const planExcluded = new Map(plan.excluded.map((table) => [table.source, table]));
  const tables = relations.filter((relation) => relation.kind === 'r' || relation.kind === 'p');
  const present = new Set(tables.filter((table) => table.schema === 'public').map((table) => table.name));

  const excluded: ResolvedExclusion[] = [];
  for (const name of operatorExclusions) {
    excluded.push({ source: name, reason: 'excluded by the operator with --exclude-table', by: 'operator' });
    if (!tables.some((table) => qualifiedName(table) === name)) {
      findings.push({
        code: 'EXCLUDED_TABLE_ABSENT',
        severity: 'warning',
        table: name,
        message: `--exclude-table ${name}: no such table in the source`,
      });
    }
  }
  for (const table of plan.excluded) {
    if (!operatorExclusions.has(table.source)) excluded.push({ ...table, by: 'plan' });
  }

  for (const relation of relations) {
    const name = qualifiedName(relation);
    if (operatorExclusions.has(name)) continue;
    if (relation.kind === 'v' || relation.kind === 'm' || relation.kind === 'f') {
      findings.push({
        code: 'NON_TABLE_RELATION',
        severity: 'warning',
        table: name,
        message: `${kindLabel(relation.kind)} ${name} is not copied (the split copies tables); recreate it on the target if the application needs it`,
      });
      continue;
    }
    if (relation.schema === 'public' && (planned.has(relation.name) || planExcluded.has(relation.name)))
      continue;
    findings.push({
      code: 'UNKNOWN_TABLE',
      severity: 'blocker',
      table: name,
      count: relation.estimatedRows,
      message: `table ${name} is not in the migration plan: its rows would be lost`,
      hint: `add it to the plan, or leave it behind knowingly with --exclude-table ${name}`,
    });
  }

  const tasks: CopyTask[] = [];
  for (const table of plan.tables) {
    if (operatorExclusions.has(table.source)) continue;
    if (!present.has(table.source)) {
      findings.push({
        code: 'PLANNED_TABLE_ABSENT',
        severity: 'warning',
        table: table.source,
        message: `planned table ${table.source} does not exist in the source; ${table.database}.${table.target} will stay empty`,
      });
      continue;
    }
    const relation = tables.find(
      (candidate) => candidate.schema === 'public' && candidate.name === table.source,
    ) as CatalogueTable;
    if (!relation.readable) {
      findings.push({
        code: 'MISSING_PRIVILEGE',
        severity: 'blocker',
        table: table.source,
        message: `the role cannot SELECT from ${table.source}: its rows cannot be copied`,
        hint: `GRANT SELECT ON ${table.source} TO the role in DB_USERNAME`,
      });
    }
    if (relation.rowSecurity) {
      findings.push({
        code: 'ROW_LEVEL_SECURITY',
        severity: 'blocker',
        table: table.source,
        message: `row-level security applies to ${table.source} for this role: a copy could miss rows`,
        hint: 'run the migration as the table owner or a role with BYPASSRLS (or superuser)',
      });
    }
    const live = options.targets?.[table.database];
    const targetColumns =
      live?.tables.get(table.target) ?? contractTargetColumns(table.source, table.addedColumns);
    const enumLabels = (type: string): readonly string[] =>
      live?.enums.get(type) ?? (live ? [] : (LEGACY_ENUMS[type] ?? []));
    const readable = relation.readable && !relation.rowSecurity;
    const task = await resolveTable(
      readable ? client : undefined,
      table.source,
      sourceColumns.get(table.source) ?? [],
      targetColumns,
      table,
      findings,
      enumLabels,
    );
    tasks.push({ ...task, estimatedRows: relation.estimatedRows, sizeBytes: relation.sizeBytes, readable });
  }
  await checkExcludedParents(client, plan, operatorExclusions, tasks, findings);
  if (options.checkDerivedColumns) findings.push(...(await checkDerivedColumns(client, tasks)));
  return { plan: { tasks, excluded, cutReferences: plan.cutReferences }, findings, present };
}

/**
 * A planned table left behind with --exclude-table may be the parent of a foreign key that the
 * target keeps (both tables in the same target database): its children's rows would be copied,
 * then the key could not be validated. Caught here, before anything is written, with the tables to
 * exclude along (or the exclusion to drop).
 */
async function checkExcludedParents(
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
        message: `--exclude-table ${parent.source}: ${rows} row(s) of ${key.child} reference it (${key.name}), and ${parent.database}.${child.target} keeps that foreign key`,
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
async function checkDerivedColumns(client: Client, tasks: CopyTask[]): Promise<Finding[]> {
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
          message: `${task.database}.${task.target}.${column.name} cannot be computed for every row of ${task.source}: ${(error as Error).message} (rule: ${column.rule})`,
          hint: `fix, in the monolith, the values of ${task.source} that the rule reads, then run the command again`,
        });
      }
    }
  }
  return findings;
}

function kindLabel(kind: CatalogueTable['kind']): string {
  return { v: 'view', m: 'materialized view', f: 'foreign table', r: 'table', p: 'partitioned table' }[kind];
}

/** `client` is undefined when the table cannot be read: only its catalogue is checked then. */
async function resolveTable(
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
  return {
    source,
    target: table.target,
    database: table.database,
    columns,
    addedColumns: table.addedColumns,
  };
}

async function countWhere(client: Client, table: string, condition: string): Promise<number> {
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

/**
 * What changed in the source catalogue since the plan was resolved: a table that appeared (and is
 * not excluded), one that vanished, or a column list that is no longer the one the copy projects.
 * The pre-flight reads the live catalogue; the copy and the verification read snapshots taken later,
 * so each of them checks that the plan still describes what they see.
 */
export function planDrift(
  plan: ResolvedPlan,
  tables: { schema: string; name: string; columns: string[] }[],
): string[] {
  const problems: string[] = [];
  const excluded = new Set(plan.excluded.map((exclusion) => exclusion.source));
  const tasks = new Map(plan.tasks.map((task) => [task.source, task]));
  for (const table of tables) {
    const name = table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;
    const task = table.schema === 'public' ? tasks.get(table.name) : undefined;
    if (!task) {
      if (!excluded.has(name))
        problems.push(`table ${name} appeared after the pre-flight and is not in the plan`);
      continue;
    }
    const planned = task.columns.map((column) => column.name);
    if (planned.join('\u0000') !== table.columns.join('\u0000')) {
      problems.push(`the columns of ${name} changed after the pre-flight (now ${table.columns.join(', ')})`);
    }
  }
  for (const task of plan.tasks) {
    if (!tables.some((table) => table.schema === 'public' && table.name === task.source))
      problems.push(`table ${task.source} disappeared after the pre-flight`);
  }
  return problems;
}
