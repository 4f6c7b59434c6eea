import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';

export type CatalogueTable = {
  schema: string;
  name: string;
  /** r = table, p = partitioned table, v = view, m = materialized view, f = foreign table */
  kind: 'r' | 'p' | 'v' | 'm' | 'f';
  sizeBytes: number;
  estimatedRows: number;
  hasPrimaryKey: boolean;
  /** The role may SELECT from it. */
  readable: boolean;
  /** Row-level security would apply to this role (so a read could silently miss rows). */
  rowSecurity: boolean;
};

export type CatalogueColumn = {
  name: string;
  type: string;
  nullable: boolean;
  hasDefault: boolean;
  /** The enum type name when the column is an enum. */
  enumType: string | null;
};

export type QualifiedTable = { schema: string; name: string };

/** Tables, views and foreign tables outside the system schemas, with size and primary-key flag. */
export async function listRelations(client: Client): Promise<CatalogueTable[]> {
  const result = await client.query<{
    schema: string;
    name: string;
    kind: CatalogueTable['kind'];
    size: string;
    estimate: string;
    pk: boolean;
    readable: boolean;
    rls: boolean;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
            pg_total_relation_size(c.oid) AS size, greatest(c.reltuples, 0)::bigint AS estimate,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS pk,
            has_table_privilege(c.oid, 'SELECT') AS readable,
            c.relrowsecurity AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user)
              AND (c.relforcerowsecurity OR pg_get_userbyid(c.relowner) <> current_user) AS rls
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'
       AND n.nspname NOT LIKE 'pg_toast_temp%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
     ORDER BY n.nspname, c.relname`,
  );
  return result.rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    kind: row.kind,
    sizeBytes: Number(row.size),
    estimatedRows: Number(row.estimate),
    hasPrimaryKey: row.pk,
    readable: row.readable,
    rowSecurity: row.rls,
  }));
}

/** Columns of every table of a schema, in column order. */
export async function listColumns(
  client: Client,
  schema = 'public',
): Promise<Map<string, CatalogueColumn[]>> {
  const result = await client.query<{
    table: string;
    name: string;
    type: string;
    notnull: boolean;
    hasdefault: boolean;
    enumtype: string | null;
  }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            a.atthasdef AS hasdefault, CASE WHEN t.typtype = 'e' THEN t.typname END AS enumtype
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
    [schema],
  );
  const columns = new Map<string, CatalogueColumn[]>();
  for (const row of result.rows) {
    const list = columns.get(row.table) ?? [];
    list.push({
      name: row.name,
      // Unqualified like the contract, whatever the session's search_path.
      type: row.type.replace(/^public\./, ''),
      nullable: !row.notnull,
      hasDefault: row.hasdefault,
      enumType: row.enumtype,
    });
    columns.set(row.table, list);
  }
  return columns;
}

export type TableStatistics = { rows: number; softDeleted: number | null };

/**
 * Exact row counts (and soft-deleted rows where a deleted_at column exists) of many tables, fifty
 * tables per statement so that a monolith of any width costs a couple of round trips.
 */
export async function tableStatistics(
  client: Client,
  tables: (QualifiedTable & { softDeleteColumn?: string })[],
): Promise<Map<string, TableStatistics>> {
  const statistics = new Map<string, TableStatistics>();
  for (let start = 0; start < tables.length; start += 50) {
    const batch = tables.slice(start, start + 50);
    const sql = batch
      .map((table, index) => {
        const softDeleted = table.softDeleteColumn
          ? `count(*) FILTER (WHERE ${quoteIdentifier(table.softDeleteColumn)} IS NOT NULL)`
          : 'NULL::bigint';
        return `SELECT ${index} AS position, count(*)::bigint AS rows, ${softDeleted} AS soft_deleted FROM ${quoteQualified(table.schema, table.name)}`;
      })
      .join(' UNION ALL ');
    const result = await client.query<{ position: number; rows: string; soft_deleted: string | null }>(sql);
    for (const row of result.rows) {
      const table = batch[row.position];
      statistics.set(`${table.schema}.${table.name}`, {
        rows: Number(row.rows),
        softDeleted: row.soft_deleted === null ? null : Number(row.soft_deleted),
      });
    }
  }
  return statistics;
}

/** Exact row counts of many tables. */
export async function exactRowCounts(client: Client, tables: QualifiedTable[]): Promise<Map<string, number>> {
  const statistics = await tableStatistics(client, tables);
  return new Map([...statistics].map(([name, value]) => [name, value.rows]));
}

/**
 * Tables (outside the journal's schema, and other than TypeORM's `migrations`) holding at least one
 * row: a cheap "is there data here" that reads one row per table at most.
 */
export async function tablesWithRows(client: Client): Promise<string[]> {
  const tables = (await listRelations(client)).filter(
    (relation) =>
      (relation.kind === 'r' || relation.kind === 'p') &&
      relation.schema !== 'migration_journal' &&
      !(relation.schema === 'public' && relation.name === 'migrations'),
  );
  const found: string[] = [];
  for (const table of tables) {
    const result = await client.query<{ present: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${quoteQualified(table.schema, table.name)}) AS present`,
    );
    if (result.rows[0].present)
      found.push(table.schema === 'public' ? table.name : `${table.schema}.${table.name}`);
  }
  return found;
}

export type TableChecksum = { rows: number; checksum: string };

const hashOf = (expressions: string[]): string => `hashtextextended(ROW(${expressions.join(', ')})::text, 0)`;

/** Column references for a checksum over `t`. */
export const columnExpressions = (columns: string[]): string[] =>
  columns.map((column) => `t.${quoteIdentifier(column)}`);

/** The 64-bit hash of one row (alias `t`) that every checksum of the tool sums. */
export const rowHash = (columns: string[]): string => hashOf(columnExpressions(columns));

/**
 * An order-independent content checksum computed by PostgreSQL: the exact (numeric) sum of a
 * 64-bit hash of each row's text over the given columns, in the given order. A sum, not a xor,
 * so that duplicate rows count; a hash of the text form, not of the binary one, so that two
 * databases agree whenever their values print the same (sessions use
 * DETERMINISTIC_SESSION_SETTINGS). hashtextextended is the stable hash behind hash partitioning,
 * cheaper than md5 over hundreds of megabytes.
 *
 * Several column lists can be summed in one scan (`checksum`, `checksum1`, ...).
 */
export function checksumSql(table: QualifiedTable, columnSets: string[][]): string {
  return checksumOfExpressionsSql(table, columnSets.map(columnExpressions));
}

/**
 * The same checksum over SQL expressions of `t` (a projection: computed columns hash like stored
 * ones); `where`, a condition on `t`, restricts it to some rows (sums over disjoint parts add up).
 */
export function checksumOfExpressionsSql(
  table: QualifiedTable,
  expressionSets: string[][],
  where?: string,
): string {
  return sumOfRowHashesSql(table, expressionSets.map(hashOf), { where });
}

/**
 * Row count and, per row hash given (an int8 expression over `t`), its exact sum over the rows
 * (`checksum`, `checksum1`, ...), as text after `prefix` (which names a checksum's kind).
 */
export function sumOfRowHashesSql(
  table: QualifiedTable,
  rowHashes: string[],
  options: { where?: string; prefix?: string } = {},
): string {
  const prefix = options.prefix ? `'${options.prefix}' || ` : '';
  const sums = rowHashes.map(
    (hash, index) => `${prefix}coalesce(sum(${hash}), 0)::text AS checksum${index === 0 ? '' : index}`,
  );
  return `SELECT count(*)::bigint AS rows, ${sums.join(', ')} FROM ${quoteQualified(table.schema, table.name)} AS t${
    options.where ? ` WHERE ${options.where}` : ''
  }`;
}

export async function tableChecksum(
  client: Client,
  table: QualifiedTable,
  columns: string[],
): Promise<TableChecksum> {
  const result = await client.query<{ rows: string; checksum: string }>(checksumSql(table, [columns]));
  return { rows: Number(result.rows[0].rows), checksum: result.rows[0].checksum };
}
