import { CleanException, CleanExceptionCode } from './clean.exception';
import { ResolvedSelection } from './clean-rules';
import { ForeignKeyGraph, GraphForeignKey, GraphTable } from './foreign-key-graph';
import { shiftParameters } from './sql-parameters';

/** A table rows are deleted from: chosen by rules (roots) and/or reached by ON DELETE CASCADE. */
export type DeletedTable = {
  index: number;
  table: GraphTable;
  /** The rules' predicates on this table, OR-ed, placeholders already shifted; null when only cascades reach it. */
  rootPredicate: string | null;
  rules: string[];
  /** Cascading FKs from other planned tables into this one. */
  cascadeFrom: GraphForeignKey[];
  /** Cascading FKs from this table to itself (a tree: deleting a node deletes its sub-tree). */
  selfCascade: GraphForeignKey[];
};

/** A table whose rows ON DELETE SET NULL/DEFAULT would change (not delete) when planned rows go. */
export type ModifiedTable = {
  index: number;
  table: GraphTable;
  foreignKeys: GraphForeignKey[];
  setColumns: string[];
};

/** A FK without a delete action (RESTRICT / NO ACTION) into a planned table: referencing rows block the delete. */
export type BlockingReference = { index: number; table: GraphTable; foreignKey: GraphForeignKey };

export type CascadePlan = {
  /** Parents before children (the order a restore inserts in). */
  deleted: DeletedTable[];
  modified: ModifiedTable[];
  blocking: BlockingReference[];
  /** Values of every $n of the plan's SQL. */
  parameters: unknown[];
  /** Rule selections whose table does not exist here. */
  missingTables: string[];
};

/**
 * Walks the foreign-key graph from the rules' tables: every table ON DELETE CASCADE reaches,
 * recursively (multi-column keys included), joins the plan; SET NULL/DEFAULT references become
 * modified tables; RESTRICT/NO ACTION references become possible blockers. Catalogue-level only:
 * which rows are concerned is for the SQL of `cascadeSql` to find, set-based, in the database.
 */
export function buildCascadePlan(graph: ForeignKeyGraph, selections: ResolvedSelection[]): CascadePlan {
  const { roots, parameters, missingTables } = rootsOf(graph, selections);
  const closure = cascadeClosure(graph, roots);
  const deleted = deletedTables(graph, roots, closure);
  const { modified, blocking } = referencingTables(graph, closure);
  return { deleted, modified, blocking, parameters, missingTables };
}

type Roots = Map<string, { predicates: string[]; rules: string[] }>;

/** The rules' own tables, with their predicates ORed per table and renumbered into one parameter list. */
function rootsOf(
  graph: ForeignKeyGraph,
  selections: ResolvedSelection[],
): { roots: Roots; parameters: unknown[]; missingTables: string[] } {
  const parameters: unknown[] = [];
  const roots: Roots = new Map();
  const missingTables: string[] = [];
  for (const selection of selections) {
    const key = `${selection.schema}.${selection.table}`;
    if (!graph.tables.has(key)) {
      missingTables.push(key);
      continue;
    }
    const predicate = shiftParameters(selection.predicate, parameters.length);
    parameters.push(...selection.values);
    const root = roots.get(key) ?? { predicates: [], rules: [] };
    root.predicates.push(`(${predicate})`);
    if (!root.rules.includes(selection.rule)) root.rules.push(selection.rule);
    roots.set(key, root);
  }
  return { roots, parameters, missingTables };
}

/** Every table ON DELETE CASCADE reaches from the roots, recursively. */
function cascadeClosure(graph: ForeignKeyGraph, roots: Roots): Set<string> {
  const closure = new Set(roots.keys());
  for (let grown = true; grown;) {
    grown = false;
    for (const foreignKey of graph.foreignKeys) {
      if (
        foreignKey.onDelete === 'cascade' &&
        closure.has(foreignKey.parent) &&
        !closure.has(foreignKey.child)
      ) {
        closure.add(foreignKey.child);
        grown = true;
      }
    }
  }
  return closure;
}

/** The tables rows are deleted from, parents first, each with what selects its rows. */
function deletedTables(graph: ForeignKeyGraph, roots: Roots, closure: Set<string>): DeletedTable[] {
  const cascades = (key: string) =>
    graph.foreignKeys.filter(
      (foreignKey) =>
        foreignKey.onDelete === 'cascade' && foreignKey.child === key && closure.has(foreignKey.parent),
    );
  const order = parentsFirst(
    [...closure].sort(),
    graph.foreignKeys.filter(
      (foreignKey) =>
        foreignKey.onDelete === 'cascade' &&
        closure.has(foreignKey.child) &&
        foreignKey.child !== foreignKey.parent,
    ),
  );
  if (order.cycle.length > 0) {
    throw new CleanException(
      CleanExceptionCode.CascadeCycle,
      `ON DELETE CASCADE runs in a cycle through ${order.cycle.join(', ')}`,
      { tables: order.cycle },
    );
  }
  return order.sorted.map((key, index): DeletedTable => {
    const root = roots.get(key);
    const cascading = cascades(key);
    return {
      index,
      table: graph.tables.get(key) as GraphTable,
      rootPredicate: root ? root.predicates.join(' OR ') : null,
      rules: root?.rules ?? [],
      cascadeFrom: cascading.filter((foreignKey) => foreignKey.parent !== key),
      selfCascade: cascading.filter((foreignKey) => foreignKey.parent === key),
    };
  });
}

/** References into the deleted tables that are not cascades: SET NULL/DEFAULT modify, RESTRICT/NO ACTION block. */
function referencingTables(
  graph: ForeignKeyGraph,
  closure: Set<string>,
): Pick<CascadePlan, 'modified' | 'blocking'> {
  const modifiedByTable = new Map<string, GraphForeignKey[]>();
  const blocking: BlockingReference[] = [];
  for (const foreignKey of graph.foreignKeys) {
    if (!closure.has(foreignKey.parent)) continue;
    if (foreignKey.onDelete === 'set-null' || foreignKey.onDelete === 'set-default')
      modifiedByTable.set(foreignKey.child, [...(modifiedByTable.get(foreignKey.child) ?? []), foreignKey]);
    else if (foreignKey.onDelete === 'restrict' || foreignKey.onDelete === 'no-action')
      blocking.push({
        index: blocking.length,
        table: graph.tables.get(foreignKey.child) as GraphTable,
        foreignKey,
      });
  }
  const modified = [...modifiedByTable.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([key, foreignKeys], index) => ({
      index,
      table: graph.tables.get(key) as GraphTable,
      foreignKeys,
      setColumns: [...new Set(foreignKeys.flatMap((foreignKey) => foreignKey.setColumns))],
    }));
  return { modified, blocking };
}

/**
 * Deleted tables in the order to delete rule rows: children before parents along every FK, so
 * that no row a rule selected is rewritten (SET NULL) before its own deletion changes its ctid.
 * Best effort inside cycles; the counters check after the delete catches anything else.
 */
export function childrenFirst(plan: CascadePlan, graph: ForeignKeyGraph): DeletedTable[] {
  const keys = plan.deleted.map((entry) => entry.table.key);
  const inPlan = new Set(keys);
  const edges = graph.foreignKeys.filter(
    (foreignKey) =>
      inPlan.has(foreignKey.child) && inPlan.has(foreignKey.parent) && foreignKey.child !== foreignKey.parent,
  );
  const { sorted, cycle } = parentsFirst(keys, edges);
  const order = [...sorted, ...cycle].reverse();
  return order.map((key) => plan.deleted.find((entry) => entry.table.key === key) as DeletedTable);
}

/** Kahn's algorithm over child->parent edges; what cannot be ordered is returned as `cycle`. */
function parentsFirst(keys: string[], edges: GraphForeignKey[]): { sorted: string[]; cycle: string[] } {
  const pending = new Map(keys.map((key) => [key, new Set<string>()]));
  for (const edge of edges) pending.get(edge.child)?.add(edge.parent);
  const sorted: string[] = [];
  for (let progress = true; progress;) {
    progress = false;
    for (const [key, parents] of pending) {
      if ([...parents].every((parent) => !pending.has(parent))) {
        sorted.push(key);
        pending.delete(key);
        progress = true;
      }
    }
  }
  return { sorted, cycle: [...pending.keys()] };
}
