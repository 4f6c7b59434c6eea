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

export type FingerprintTarget = QualifiedTable & { columns: string[]; sizeBytes: number };

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
    .map((relation) => ({
      schema: relation.schema,
      name: relation.name,
      sizeBytes: relation.sizeBytes,
      columns: (columnsBySchema.get(relation.schema)?.get(relation.name) ?? []).map((column) => column.name),
    }))
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
  options: { dutyCycle?: number; paceWhile?: () => boolean } = {},
): Promise<Record<string, TableFingerprint>> {
  const free = [...sessions];
  const dutyCycle = options.dutyCycle ?? 1;
  const results = await mapWithConcurrency(tables, sessions.length, async (table) => {
    const session = free.pop() as Client;
    try {
      const started = Date.now();
      const checksum = await tableChecksum(session, table, table.columns);
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
