import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { QualifiedTable, sumOfRowHashesSql } from './catalogue';

/** A value to hash and its SQL type as `format_type` prints it (`numeric(10,2)`, `text[]`, a domain...). */
export type HashedColumn = { expression: string; type: string };

/**
 * Checksums of this kind carry the prefix, so that one is never compared with a text checksum
 * (catalogue.ts) as if they were the same measure: a journal written before they existed holds
 * text checksums, and whoever compares with it computes text checksums again.
 */
export const TYPED_CHECKSUM_PREFIX = 'typed:';

export const isTypedChecksum = (checksum: string | null | undefined): boolean =>
  checksum?.startsWith(TYPED_CHECKSUM_PREFIX) ?? false;

/*
 * Which values go to hash_record_extended as they are: types whose own hash function takes every
 * bit of the value (integers up to 32 bits, uuid, bytea). The 64-bit types are hashed by their type
 * through a 32-bit fold: a bigint also gives its high half, which the fold then cannot hide; the
 * timestamps and time go as their binary form (the send function), hashed as bytes. numeric's own
 * hash ignores the display scale (1.0 and 1.00 hash alike): it goes as its binary form too, scale
 * included. Strings are hashed as bytes under "C" (a non-deterministic collation would fold case).
 * Everything else is hashed as its text: float (-0 and 0), interval ('1 day' and '24 hours'), jsonb
 * (numbers by value) and enums (the label's oid, which differs between databases) all have hashes
 * that see less than their text; arrays, domains and json go as text too.
 */
const AS_IS = new Set(['smallint', 'integer', 'oid', 'boolean', 'date', 'uuid', 'bytea']);
const STRINGS = new Set(['text', 'character varying', 'character']);
const BINARY: Record<string, string> = {
  numeric: 'numeric_send',
  'timestamp without time zone': 'timestamp_send',
  'timestamp with time zone': 'timestamptz_send',
  'time without time zone': 'time_send',
};

const baseType = (type: string): string =>
  type
    .replace(/\(\d+(,\d+)?\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** The values that stand for one column in the row hash. */
export function hashInputs({ expression, type }: HashedColumn): string[] {
  const base = baseType(type);
  if (AS_IS.has(base)) return [`(${expression})`];
  if (base === 'bigint') return [`(${expression})`, `((${expression}) >> 32)::integer`];
  if (STRINGS.has(base)) return [`(${expression}) COLLATE "C"`];
  if (BINARY[base]) return [`pg_catalog.${BINARY[base]}(${expression})`];
  return [`(${expression})::text`];
}

/**
 * The 64-bit hash of one row: each value through its type's own hash or as bytes (no text to
 * build: about three times cheaper than hashing the row's text), combined by hash_record_extended,
 * then hashed once more as 8 bytes. That last step matters: hash_record_extended combines fields
 * linearly (31·h + h'), so a plain sum over rows could not see values of one column moved between
 * rows; hashed again (all 64 bits, where an int8's own hash would fold them to 32), it can.
 */
export const typedRowHash = (columns: HashedColumn[]): string =>
  `pg_catalog.hash_record_extended(ROW(pg_catalog.int8send(pg_catalog.hash_record_extended(ROW(${columns
    .flatMap(hashInputs)
    .join(', ')}), 0))), 0)`;

/** Columns of `t` with their types. */
export const typedColumns = (names: string[], types: string[]): HashedColumn[] =>
  names.map((name, index) => ({ expression: `t.${quoteIdentifier(name)}`, type: types[index] }));

/**
 * The typed counterpart of catalogue.ts's checksumOfExpressionsSql: row count and, per column set,
 * the exact sum of typedRowHash over the rows (order-independent, duplicates counted), as
 * `checksum`, `checksum1`, ... each with TYPED_CHECKSUM_PREFIX.
 */
export function typedChecksumSql(
  table: QualifiedTable,
  columnSets: HashedColumn[][],
  where?: string,
): string {
  return sumOfRowHashesSql(table, columnSets.map(typedRowHash), { where, prefix: TYPED_CHECKSUM_PREFIX });
}

/** The types of some columns of a table, in order; null when the table or one of them is gone. */
export async function columnTypes(
  client: Client,
  table: QualifiedTable,
  columns: string[],
): Promise<string[] | null> {
  const result = await client.query<{ type: string | null }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type
     FROM unnest($2::text[]) WITH ORDINALITY AS wanted(name, position)
     LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attname = wanted.name AND a.attnum > 0 AND NOT a.attisdropped
     WHERE to_regclass($1) IS NOT NULL ORDER BY wanted.position`,
    [quoteQualified(table.schema, table.name), columns],
  );
  if (result.rows.length !== columns.length || result.rows.some((row) => row.type === null)) return null;
  return result.rows.map((row) => row.type as string);
}

/** hash_record_extended came with PostgreSQL 14: older servers are compared by text checksums. */
export async function supportsTypedChecksums(client: Client): Promise<boolean> {
  const result = await client.query<{ number: string }>(
    `SELECT current_setting('server_version_num') AS number`,
  );
  return Number(result.rows[0].number) >= 140000;
}
