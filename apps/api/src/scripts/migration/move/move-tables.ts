import { Client } from 'pg';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { checksumSql } from '../catalogue/catalogue';
import { CopyTask } from '../plan/plan-resolver';
import { MoveException, MoveExceptionCode } from './move.exception';

/** A table of a tenant database as the move sees it: the columns a COPY can write, in order. */
export type MovedTable = {
  name: string;
  columns: { name: string; type: string }[];
  sizeBytes: number;
  estimatedRows: number;
};

export type TableFingerprint = { table: string; rows: number; checksum: string };

/** Every ordinary table of `public` with its stored (not generated) columns. */
export async function listTables(client: Client): Promise<MovedTable[]> {
  const result = await client.query<{
    name: string;
    columns: { name: string; type: string }[];
    size: string;
    estimate: string;
  }>(
    `SELECT c.relname AS name, pg_table_size(c.oid)::text AS size, greatest(c.reltuples, 0)::bigint::text AS estimate,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)
             FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition ORDER BY c.relname`,
  );
  return result.rows.map((row) => ({
    name: row.name,
    columns: row.columns ?? [],
    sizeBytes: Number(row.size),
    estimatedRows: Number(row.estimate),
  }));
}

const shape = (table: MovedTable): string =>
  table.columns
    .map((column) => `${column.name} ${column.type}`)
    .sort()
    .join(', ');

/**
 * The target, built by the tenant migrations, must have exactly the source's tables and columns:
 * otherwise a column would be lost or invented. Refused before any row is copied.
 */
export function assertSameSchema(source: MovedTable[], target: MovedTable[], database: string): void {
  const targetByName = new Map(target.map((table) => [table.name, table]));
  const problems: string[] = [];
  for (const table of source) {
    const other = targetByName.get(table.name);
    if (!other) problems.push(`${table.name} is missing`);
    else if (shape(other) !== shape(table)) problems.push(`${table.name} has other columns`);
  }
  for (const table of target) {
    if (!source.some((candidate) => candidate.name === table.name)) problems.push(`${table.name} is extra`);
  }
  if (problems.length > 0) {
    throw new MoveException(
      MoveExceptionCode.SchemaMismatch,
      `the new copy of ${database} does not have the source's tables: ${problems.slice(0, 5).join('; ')}`,
      { tables: problems },
    );
  }
}

/** The split's copy task for one table of a tenant database: same columns on both sides, none added. */
export function moveTask(table: MovedTable): CopyTask {
  return {
    source: table.name,
    target: table.name,
    database: 'tenant',
    columns: table.columns.map((column) => ({
      name: column.name,
      sourceType: column.type,
      targetType: column.type,
    })),
    addedColumns: [],
    estimatedRows: table.estimatedRows,
    sizeBytes: table.sizeBytes,
    readable: true,
  };
}

/** Rows and content checksum of one table, computed by the server the session is on. */
export async function fingerprint(client: Client, table: MovedTable): Promise<TableFingerprint> {
  const result = await client.query<{ rows: string; checksum: string }>(
    checksumSql({ schema: 'public', name: table.name }, [table.columns.map((column) => column.name)]),
  );
  return { table: table.name, rows: Number(result.rows[0].rows), checksum: result.rows[0].checksum };
}

export type SequenceValue = { name: string; lastValue: string; isCalled: boolean };

/** Where every sequence of `public` stands (read from the sequence itself: pg_sequences hides some). */
export async function sequenceValues(client: Client): Promise<SequenceValue[]> {
  const names = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'S' ORDER BY 1`,
  );
  const values: SequenceValue[] = [];
  for (const { name } of names.rows) {
    const result = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${quoteQualified('public', name)}`,
    );
    values.push({ name, lastValue: result.rows[0].last_value, isCalled: result.rows[0].is_called });
  }
  return values;
}

export async function setSequences(client: Client, values: SequenceValue[]): Promise<void> {
  for (const value of values) {
    await client.query('SELECT setval($1::regclass, $2::bigint, $3)', [
      quoteQualified('public', value.name),
      value.lastValue,
      value.isCalled,
    ]);
  }
}
