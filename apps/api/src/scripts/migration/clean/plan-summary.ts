import { Client } from 'pg';
import { CascadePlan } from './cascade-planner';
import { summarySql } from './cascade-sql';

export type DeletedCount = {
  table: string;
  rows: number;
  /** Rows a rule selected directly; the rest go by ON DELETE CASCADE. */
  ruleRows: number;
  cascadedRows: number;
  samples: string[];
};

export type ModifiedCount = {
  table: string;
  rows: number;
  /** Columns ON DELETE SET NULL empties in those rows (the archive keeps their values). */
  columns: string[];
  constraints: string[];
  samples: string[];
};

export type BlockedCount = {
  table: string;
  constraint: string;
  references: string;
  rows: number;
  samples: string[];
};

export type PlanSummary = {
  deleted: DeletedCount[];
  modified: ModifiedCount[];
  blocked: BlockedCount[];
  deletedRows: number;
  modifiedRows: number;
};

export const EMPTY_SUMMARY: PlanSummary = {
  deleted: [],
  modified: [],
  blocked: [],
  deletedRows: 0,
  modifiedRows: 0,
};

/**
 * Counts a plan's rows per table, with up to five sample keys each. `source` is the plan's own
 * SQL (dry run) or the table execute materialised it into: the same rows either way.
 */
export async function summarize(
  client: Client,
  plan: CascadePlan,
  source: string,
  parameters: unknown[],
): Promise<PlanSummary> {
  const result = await client.query<{
    kind: string;
    idx: number;
    rows: string;
    roots: string;
    samples: string[] | null;
  }>(summarySql(source), parameters);
  const summary: PlanSummary = { deleted: [], modified: [], blocked: [], deletedRows: 0, modifiedRows: 0 };
  for (const row of result.rows) {
    const rows = Number(row.rows);
    const samples = row.samples ?? [];
    if (row.kind === 'd') {
      const ruleRows = Number(row.roots);
      summary.deleted.push({
        table: plan.deleted[row.idx].table.key,
        rows,
        ruleRows,
        cascadedRows: rows - ruleRows,
        samples,
      });
      summary.deletedRows += rows;
    } else if (row.kind === 'm') {
      const modified = plan.modified[row.idx];
      summary.modified.push({
        table: modified.table.key,
        rows,
        columns: modified.setColumns,
        constraints: modified.foreignKeys.map((foreignKey) => foreignKey.name),
        samples,
      });
      summary.modifiedRows += rows;
    } else {
      const blocking = plan.blocking[row.idx];
      summary.blocked.push({
        table: blocking.table.key,
        constraint: blocking.foreignKey.name,
        references: blocking.foreignKey.parent,
        rows,
        samples,
      });
    }
  }
  return summary;
}

/**
 * Why execute would refuse this plan: rows that block the delete, or rows it would change without
 * being able to put them back exactly (no primary key to find them again, or ON DELETE SET
 * DEFAULT, whose old values clean does not restore).
 */
export function refusals(plan: CascadePlan, summary: PlanSummary): string[] {
  const reasons: string[] = [];
  for (const blocked of summary.blocked) {
    reasons.push(
      `${blocked.rows} row(s) of ${blocked.table} reference planned ${blocked.references} rows through ${blocked.constraint} (no ON DELETE action): the delete would fail`,
    );
  }
  for (const modified of summary.modified) {
    const entry = plan.modified.find((candidate) => candidate.table.key === modified.table);
    if (!entry?.table.primaryKey)
      reasons.push(
        `${modified.rows} row(s) of ${modified.table} would be changed by ON DELETE SET NULL but the table has no primary key to restore them by`,
      );
    if (entry?.foreignKeys.some((foreignKey) => foreignKey.onDelete === 'set-default'))
      reasons.push(
        `${modified.rows} row(s) of ${modified.table} would be changed by ON DELETE SET DEFAULT, which clean does not archive`,
      );
  }
  return reasons;
}
