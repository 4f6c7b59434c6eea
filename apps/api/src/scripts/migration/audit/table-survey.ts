import { Client } from 'pg';
import { CatalogueColumn, listColumns, listRelations, tableStatistics } from '../catalogue/catalogue';
import { PlanValidation } from '../plan/plan-resolver';
import { AuditTable } from './audit-report';

export type TableSurvey = {
  tables: AuditTable[];
  /** Tables the role cannot fully read (privileges, row security): described from the catalogue only. */
  unreadable: Set<string>;
  columns: Map<string, CatalogueColumn[]>;
};

/** Every table of the monolith: rows, soft-deleted rows, size, primary key and where the plan sends it. */
export async function surveyTables(client: Client, validation: PlanValidation): Promise<TableSurvey> {
  const relations = (await listRelations(client)).filter(
    (relation) => relation.kind === 'r' || relation.kind === 'p',
  );
  const columns = await listColumns(client, 'public');
  const displayName = (relation: { schema: string; name: string }): string =>
    relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`;
  // A table the role cannot fully read is described from the catalogue only (its blocker says why).
  const statistics = await tableStatistics(
    client,
    relations
      .filter((relation) => relation.readable && !relation.rowSecurity)
      .map((relation) => ({
        ...relation,
        softDeleteColumn:
          relation.schema === 'public' &&
          columns.get(relation.name)?.some((column) => column.name === 'deleted_at')
            ? 'deleted_at'
            : undefined,
      })),
  );
  const tables: AuditTable[] = relations.map((relation) => {
    const name = displayName(relation);
    const stats = statistics.get(`${relation.schema}.${relation.name}`);
    return {
      name,
      rows: stats?.rows ?? 0,
      softDeleted: stats?.softDeleted ?? null,
      sizeBytes: relation.sizeBytes,
      hasPrimaryKey: relation.hasPrimaryKey,
      destination: destinationOf(validation, name),
    };
  });
  const unreadable = new Set(
    relations.filter((relation) => !relation.readable || relation.rowSecurity).map(displayName),
  );
  return { tables, unreadable, columns };
}

function destinationOf(validation: PlanValidation, name: string): string {
  const task = validation.plan.tasks.find((candidate) => candidate.source === name);
  if (task) return `${task.database}.${task.target}`;
  const exclusion = validation.plan.excluded.find((candidate) => candidate.source === name);
  return exclusion ? `excluded: ${exclusion.reason}` : 'unplanned';
}
