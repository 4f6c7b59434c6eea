import { Client } from 'pg';

export type ReferenceAction = 'cascade' | 'set-null' | 'set-default' | 'restrict' | 'no-action';

export type GraphColumn = { name: string; type: string };

export type GraphTable = {
  schema: string;
  name: string;
  /** `schema.name`, the key every map of the planner uses. */
  key: string;
  /** Every column in attnum order (what db:backup fingerprints). */
  columns: string[];
  /** Columns that hold data of their own (generated ones are recomputed on insert), in attnum order. */
  storedColumns: GraphColumn[];
  primaryKey: string[] | null;
};

export type GraphForeignKey = {
  name: string;
  child: string;
  parent: string;
  childColumns: string[];
  parentColumns: string[];
  onDelete: ReferenceAction;
  /** The columns ON DELETE SET NULL/DEFAULT changes: all of childColumns unless the FK lists some. */
  setColumns: string[];
};

export type ForeignKeyGraph = { tables: Map<string, GraphTable>; foreignKeys: GraphForeignKey[] };

const ACTIONS: Record<string, ReferenceAction> = {
  c: 'cascade',
  n: 'set-null',
  d: 'set-default',
  r: 'restrict',
  a: 'no-action',
};

const columnNames = (keys: string, relation: string): string =>
  `ARRAY(SELECT a.attname::text FROM unnest(${keys}) WITH ORDINALITY AS u(attnum, position)
         JOIN pg_attribute a ON a.attrelid = ${relation} AND a.attnum = u.attnum ORDER BY u.position)`;

/**
 * Tables (columns, primary keys) and foreign keys of a database, read from pg_catalog: the graph
 * the cascade planner walks. Partitions are left out (their FKs are clones of the parent's).
 */
export async function readForeignKeyGraph(client: Client): Promise<ForeignKeyGraph> {
  const version = await client.query<{ number: string }>(
    `SELECT current_setting('server_version_num') AS number`,
  );
  // ON DELETE SET NULL (columns) exists from PostgreSQL 15 on.
  const setColumns =
    Number(version.rows[0].number) >= 150000 ? columnNames('c.confdelsetcols', 'c.conrelid') : `'{}'::text[]`;
  const tables = await client.query<{
    schema: string;
    name: string;
    columns: { name: string; type: string; generated: boolean }[];
    primary_key: string[] | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                               'generated', a.attgenerated <> '') ORDER BY a.attnum)
             FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT ${columnNames('k.conkey', 'k.conrelid')} FROM pg_constraint k
             WHERE k.conrelid = c.oid AND k.contype = 'p') AS primary_key
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
     ORDER BY n.nspname, c.relname`,
  );
  const foreignKeys = await client.query<{
    name: string;
    child_schema: string;
    child_table: string;
    parent_schema: string;
    parent_table: string;
    action: string;
    child_columns: string[];
    parent_columns: string[];
    set_columns: string[];
  }>(
    `SELECT c.conname AS name, cn.nspname AS child_schema, cc.relname AS child_table,
            pn.nspname AS parent_schema, pc.relname AS parent_table, c.confdeltype AS action,
            ${columnNames('c.conkey', 'c.conrelid')} AS child_columns,
            ${columnNames('c.confkey', 'c.confrelid')} AS parent_columns,
            ${setColumns} AS set_columns
     FROM pg_constraint c
     JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
     JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
     WHERE c.contype = 'f' AND c.conparentid = 0 AND NOT cc.relispartition
     ORDER BY cn.nspname, cc.relname, c.conname`,
  );
  const graph: ForeignKeyGraph = { tables: new Map(), foreignKeys: [] };
  for (const row of tables.rows) {
    const key = `${row.schema}.${row.name}`;
    const columns = row.columns ?? [];
    graph.tables.set(key, {
      schema: row.schema,
      name: row.name,
      key,
      columns: columns.map((column) => column.name),
      storedColumns: columns
        .filter((column) => !column.generated)
        .map((column) => ({ name: column.name, type: column.type })),
      primaryKey: row.primary_key && row.primary_key.length > 0 ? row.primary_key : null,
    });
  }
  for (const row of foreignKeys.rows) {
    graph.foreignKeys.push({
      name: row.name,
      child: `${row.child_schema}.${row.child_table}`,
      parent: `${row.parent_schema}.${row.parent_table}`,
      childColumns: row.child_columns,
      parentColumns: row.parent_columns,
      onDelete: ACTIONS[row.action] ?? 'no-action',
      setColumns: row.set_columns.length > 0 ? row.set_columns : row.child_columns,
    });
  }
  return graph;
}
