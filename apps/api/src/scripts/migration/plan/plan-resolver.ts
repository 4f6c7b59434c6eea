import { Client } from 'pg';
import { CatalogueColumn, CatalogueTable, listColumns, listRelations } from '../catalogue/catalogue';
import { Finding } from './finding';
import { LEGACY_ENUMS } from './legacy-columns';
import { MigrationPlan } from './plan.types';
import { checkDerivedColumns, checkExcludedParents } from './plan-checks';
import { CopyTask, PlanValidation, ResolvedExclusion, ResolveOptions } from './resolved-plan.types';
import { contractTargetColumns } from './target-schema';
import { resolveTable } from './table-resolution';

// The pipeline imports the plan's types and helpers from here, the resolver's entry point.
export { planDrift } from './plan-drift';
export {
  CopyColumn,
  CopyTask,
  PlanValidation,
  ResolvedExclusion,
  ResolvedPlan,
  ResolveOptions,
  TargetColumn,
  TargetSchema,
  TargetSchemas,
} from './resolved-plan.types';
export { contractTargetColumns, readTargetSchema } from './target-schema';

const qualifiedName = (table: { schema: string; name: string }): string =>
  table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;

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
  const operatorExclusions = new Set(
    (options.excludeTables ?? []).map((name) => name.replace(/^public\./, '')),
  );
  const relations = await listRelations(client);
  const tables = relations.filter((relation) => relation.kind === 'r' || relation.kind === 'p');
  const present = new Set(tables.filter((table) => table.schema === 'public').map((table) => table.name));
  const findings: Finding[] = [];
  const excluded = resolveExclusions(plan, operatorExclusions, tables, findings);
  findings.push(...unplannedRelationFindings(plan, operatorExclusions, relations));
  const source: SourceCatalogue = { tables, sourceColumns: await listColumns(client, 'public') };
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
    tasks.push(await resolvePlannedTable(client, table, source, options, findings));
  }
  await checkExcludedParents(client, plan, operatorExclusions, tasks, findings);
  if (options.checkDerivedColumns) findings.push(...(await checkDerivedColumns(client, tasks)));
  return { plan: { tasks, excluded, cutReferences: plan.cutReferences }, findings, present };
}

type SourceCatalogue = { tables: CatalogueTable[]; sourceColumns: Map<string, CatalogueColumn[]> };

/** The plan's exclusions and the operator's (--exclude-table), which must name a table of the source. */
function resolveExclusions(
  plan: MigrationPlan,
  operatorExclusions: Set<string>,
  tables: CatalogueTable[],
  findings: Finding[],
): ResolvedExclusion[] {
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
  return excluded;
}

/** Relations the plan does not know (a blocker: their rows would be lost) and ones the split never copies. */
function unplannedRelationFindings(
  plan: MigrationPlan,
  operatorExclusions: Set<string>,
  relations: CatalogueTable[],
): Finding[] {
  const known = new Set([...plan.tables, ...plan.excluded].map((table) => table.source));
  const findings: Finding[] = [];
  for (const relation of relations) {
    const name = qualifiedName(relation);
    if (operatorExclusions.has(name)) continue;
    if (relation.kind === 'v' || relation.kind === 'm' || relation.kind === 'f') {
      findings.push({
        code: 'NON_TABLE_RELATION',
        severity: 'warning',
        table: name,
        message:
          `${kindLabel(relation.kind)} ${name} is not copied (the split copies tables); ` +
          'recreate it on the target if the application needs it',
      });
      continue;
    }
    if (relation.schema === 'public' && known.has(relation.name)) continue;
    findings.push({
      code: 'UNKNOWN_TABLE',
      severity: 'blocker',
      table: name,
      count: relation.estimatedRows,
      message: `table ${name} is not in the migration plan: its rows would be lost`,
      hint: `add it to the plan, or leave it behind knowingly with --exclude-table ${name}`,
    });
  }
  return findings;
}

/** One planned table that exists: readable by the role, its columns matched to the target's. */
async function resolvePlannedTable(
  client: Client,
  table: MigrationPlan['tables'][number],
  source: SourceCatalogue,
  options: ResolveOptions,
  findings: Finding[],
): Promise<CopyTask> {
  const relation = source.tables.find(
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
    source.sourceColumns.get(table.source) ?? [],
    targetColumns,
    table,
    findings,
    enumLabels,
  );
  return { ...task, estimatedRows: relation.estimatedRows, sizeBytes: relation.sizeBytes, readable };
}

function kindLabel(kind: CatalogueTable['kind']): string {
  return { v: 'view', m: 'materialized view', f: 'foreign table', r: 'table', p: 'partitioned table' }[kind];
}
