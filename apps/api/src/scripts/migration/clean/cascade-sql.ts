import { quoteIdentifier as q, quoteQualified } from '../../../common/identifiers/identifier';
import { CascadePlan, DeletedTable } from './cascade-planner';
import { GraphForeignKey, GraphTable } from './foreign-key-graph';

/** Row kinds of a plan: deleted, modified by SET NULL/DEFAULT, blocking a delete. */
export type PlanRowKind = 'd' | 'm' | 'b';

// Names of the columns the plan adds to each table's rows; unlikely to collide with real columns.
// A row is named by (tableoid, ctid): a ctid is a place in one relation, and every partition of a
// partitioned table has its own row at (0,1).
const TABLEOID = '"__clean_tableoid"';
const CTID = '"__clean_ctid"';
const ROOT = '"__clean_root"';
const SAMPLE = '"__clean_sample"';

const relation = (table: GraphTable): string => quoteQualified(table.schema, table.name);
const column = (table: GraphTable, name: string): string => `${relation(table)}.${q(name)}`;
const cteName = (kind: PlanRowKind, index: number): string => q(`clean_${kind}${index}`);
const tuple = (alias: string, columns: string[]): string =>
  `(${columns.map((name) => `${alias}.${q(name)}`).join(', ')})`;

/** A readable key for samples: the primary key's text, else the row's physical position. */
export function sampleKeySql(table: GraphTable): string {
  const key = table.primaryKey;
  if (!key) return `${relation(table)}.ctid::text`;
  if (key.length === 1) return `${column(table, key[0])}::text`;
  return `ROW(${key.map((name) => column(table, name)).join(', ')})::text`;
}

/**
 * One statement that finds, set-based, every row the plan concerns: a CTE per deleted table in
 * parents-first order (rule predicate OR a cascading FK IN the parent's CTE; a recursive CTE for
 * self-referencing trees), then SET NULL targets and blocking references, all read in the same
 * snapshot. It returns (kind, idx, row_tableoid, row_ctid, is_root, sample_key). The dry run aggregates it and
 * execute materialises it, so both count exactly the same rows.
 */
export function cascadeSql(plan: CascadePlan): string {
  const ctes: string[] = [];
  const branches: string[] = [];
  const deletedIndex = new Map(plan.deleted.map((entry) => [entry.table.key, entry.index]));
  for (const entry of plan.deleted) {
    ctes.push(deletedCte(entry, plan, deletedIndex));
    branches.push(branch('d', entry.index));
  }
  for (const entry of plan.modified) {
    ctes.push(referencingCte('m', entry.index, entry.table, entry.foreignKeys, deletedIndex, plan.deleted));
    branches.push(branch('m', entry.index));
  }
  for (const entry of plan.blocking) {
    ctes.push(referencingCte('b', entry.index, entry.table, [entry.foreignKey], deletedIndex, plan.deleted));
    branches.push(branch('b', entry.index));
  }
  return `WITH RECURSIVE ${ctes.join(',\n')}\n${branches.join('\nUNION ALL ')}`;
}

const branch = (kind: PlanRowKind, index: number): string =>
  `SELECT '${kind}'::text AS kind, ${index} AS idx, ${TABLEOID} AS row_tableoid, ${CTID} AS row_ctid, ${ROOT} AS is_root, ${SAMPLE} AS sample_key FROM ${cteName(kind, index)}`;

/** Columns a deleted table's CTE carries: its key, the FK columns that point at it or away from it. */
function carriedColumns(entry: DeletedTable, plan: CascadePlan): string[] {
  const key = entry.table.key;
  const names = new Set(entry.table.primaryKey ?? []);
  for (const foreignKey of [...entry.cascadeFrom, ...entry.selfCascade])
    foreignKey.childColumns.forEach((name) => names.add(name));
  const outgoing: GraphForeignKey[] = [
    ...plan.deleted.flatMap((other) => [...other.cascadeFrom, ...other.selfCascade]),
    ...plan.modified.flatMap((other) => other.foreignKeys),
    ...plan.blocking.map((other) => other.foreignKey),
  ];
  for (const foreignKey of outgoing)
    if (foreignKey.parent === key) foreignKey.parentColumns.forEach((name) => names.add(name));
  return [...names];
}

function deletedCte(entry: DeletedTable, plan: CascadePlan, deletedIndex: Map<string, number>): string {
  const table = entry.table;
  const carried = carriedColumns(entry, plan);
  const rows = `(SELECT ${relation(table)}.tableoid AS ${TABLEOID}, ${relation(table)}.ctid AS ${CTID}, coalesce((${entry.rootPredicate ?? 'false'}), false) AS ${ROOT}, ${sampleKeySql(table)} AS ${SAMPLE}${carried.map((name) => `, ${column(table, name)}`).join('')} FROM ${relation(table)}) AS s`;
  const conditions = [
    `s.${ROOT}`,
    ...entry.cascadeFrom.map(
      (foreignKey) =>
        `${tuple('s', foreignKey.childColumns)} IN (SELECT ${foreignKey.parentColumns.map((name) => `p.${q(name)}`).join(', ')} FROM ${cteName('d', deletedIndex.get(foreignKey.parent) as number)} AS p)`,
    ),
  ];
  const base = `SELECT * FROM ${rows} WHERE ${conditions.join(' OR ')}`;
  if (entry.selfCascade.length === 0) return `${cteName('d', entry.index)} AS MATERIALIZED (${base})`;
  // UNION (not ALL) stops at rows already found, so a tree with a loop in its data still ends.
  const join = entry.selfCascade
    .map((foreignKey) => `${tuple('s', foreignKey.childColumns)} = ${tuple('p', foreignKey.parentColumns)}`)
    .join(' OR ');
  return `${cteName('d', entry.index)} AS (${base} UNION SELECT s.* FROM ${rows} JOIN ${cteName('d', entry.index)} AS p ON ${join})`;
}

/** Rows of `table` that reference planned rows through `foreignKeys` and are not deleted themselves. */
function referencingCte(
  kind: PlanRowKind,
  index: number,
  table: GraphTable,
  foreignKeys: GraphForeignKey[],
  deletedIndex: Map<string, number>,
  deleted: DeletedTable[],
): string {
  const references = foreignKeys
    .map(
      (foreignKey) =>
        `(${foreignKey.childColumns.map((name) => column(table, name)).join(', ')}) IN (SELECT ${foreignKey.parentColumns.map((name) => `p.${q(name)}`).join(', ')} FROM ${cteName('d', deletedIndex.get(foreignKey.parent) as number)} AS p)`,
    )
    .join(' OR ');
  const self = deletedIndex.get(table.key);
  let excluded = '';
  if (self !== undefined) {
    const key = deleted[self].table.primaryKey;
    excluded = key
      ? ` AND (${key.map((name) => column(table, name)).join(', ')}) NOT IN (SELECT ${key.map((name) => `d.${q(name)}`).join(', ')} FROM ${cteName('d', self)} AS d)`
      : ` AND (${relation(table)}.tableoid, ${relation(table)}.ctid) NOT IN (SELECT d.${TABLEOID}, d.${CTID} FROM ${cteName('d', self)} AS d)`;
  }
  return `${cteName(kind, index)} AS MATERIALIZED (SELECT ${relation(table)}.tableoid AS ${TABLEOID}, ${relation(table)}.ctid AS ${CTID}, false AS ${ROOT}, ${sampleKeySql(table)} AS ${SAMPLE} FROM ${relation(table)} WHERE (${references})${excluded})`;
}

/** Per kind and table: rows, rule rows, and the five smallest sample keys (a sort that may spill, never a big array). */
export function summarySql(source: string): string {
  return `SELECT kind, idx, count(*)::bigint AS rows, count(*) FILTER (WHERE is_root)::bigint AS roots,
                 array_agg(sample_key ORDER BY sample_key) FILTER (WHERE position <= 5) AS samples
          FROM (SELECT kind, idx, is_root, sample_key,
                       row_number() OVER (PARTITION BY kind, idx ORDER BY sample_key) AS position
                FROM (${source}) AS plan_rows) AS numbered
          GROUP BY kind, idx ORDER BY kind, idx`;
}
