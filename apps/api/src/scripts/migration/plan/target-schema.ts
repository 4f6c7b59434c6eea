import { Client } from 'pg';
import { listColumns } from '../catalogue/catalogue';
import { LEGACY_COLUMNS } from './legacy-columns';
import { AddedColumn } from './plan.types';
import { TargetColumn, TargetSchema } from './resolved-plan.types';

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
