import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { TableFingerprint } from '../backup/backup-manifest';
import {
  CatalogueTable,
  listColumns,
  listRelations,
  QualifiedTable,
  tableChecksum,
} from '../catalogue/catalogue';
import { typedColumns, typedChecksumSql } from '../catalogue/typed-checksum';

/** `types`: each column's type as format_type prints it, for typed checksums (catalogue/typed-checksum.ts). */
export type FingerprintTarget = QualifiedTable & { columns: string[]; types: string[]; sizeBytes: number };

/**
 * How a fingerprint hashes rows: `text` (catalogue.ts: the row's text, what backups and older
 * journals record) or `typed` (catalogue/typed-checksum.ts: what a split's verification records).
 * Whoever compares with a recorded fingerprint computes the kind that fingerprint was taken with.
 */
export type FingerprintHash = 'text' | 'typed';

/** Every table of a database (all non-system schemas) with all its columns, biggest first. */
export async function fingerprintTargets(
  client: Client,
  options: { excludeSchemas?: string[] } = {},
): Promise<FingerprintTarget[]> {
  const relations = (await listRelations(client)).filter(
    (relation: CatalogueTable) =>
      (relation.kind === 'r' || relation.kind === 'p') &&
      !(options.excludeSchemas ?? []).includes(relation.schema),
  );
  const columnsBySchema = new Map<string, Awaited<ReturnType<typeof listColumns>>>();
  for (const schema of new Set(relations.map((relation) => relation.schema)))
    columnsBySchema.set(schema, await listColumns(client, schema));
  return relations
    .map((relation) => {
      const columns = columnsBySchema.get(relation.schema)?.get(relation.name) ?? [];
      return {
        schema: relation.schema,
        name: relation.name,
        sizeBytes: relation.sizeBytes,
        columns: columns.map((column) => column.name),
        types: columns.map((column) => column.type),
      };
    })
    .sort((left, right) => right.sizeBytes - left.sizeBytes);
}

export const fingerprintKey = (table: QualifiedTable): string => `${table.schema}.${table.name}`;

/**
 * Counts and checksums of many tables, spread over sessions that all joined the same snapshot
 * (largest tables first so the slowest one starts early).
 */
export async function computeFingerprints(
  sessions: Client[],
  tables: FingerprintTarget[],
  options: { dutyCycle?: number; paceWhile?: () => boolean; hash?: FingerprintHash } = {},
): Promise<Record<string, TableFingerprint>> {
  const free = [...sessions];
  const dutyCycle = options.dutyCycle ?? 1;
  const results = await mapWithConcurrency(tables, sessions.length, async (table) => {
    const session = free.pop() as Client;
    try {
      const started = Date.now();
      const checksum =
        options.hash === 'typed'
          ? await typedTableChecksum(session, table)
          : await tableChecksum(session, table, table.columns);
      // Paced work leaves the CPU to what runs beside it (pg_dump's compression during a backup),
      // and only while it runs: once pg_dump is done, the rest goes at full speed.
      if (dutyCycle < 1 && (options.paceWhile?.() ?? true))
        await sleep(((Date.now() - started) * (1 - dutyCycle)) / dutyCycle);
      return checksum;
    } finally {
      free.push(session);
    }
  });
  const fingerprints: Record<string, TableFingerprint> = {};
  results.forEach((result, index) => {
    if (result.status === 'rejected') throw result.reason;
    fingerprints[fingerprintKey(tables[index])] = result.value;
  });
  return Object.fromEntries(
    Object.entries(fingerprints).sort(([left], [right]) => left.localeCompare(right)),
  );
}

/** A table's typed fingerprint over all its columns. */
export async function typedTableChecksum(
  session: Client,
  table: FingerprintTarget,
): Promise<TableFingerprint> {
  const result = await session.query<{ rows: string; checksum: string }>(
    typedChecksumSql(table, [typedColumns(table.columns, table.types)]),
  );
  return { rows: Number(result.rows[0].rows), checksum: result.rows[0].checksum };
}
