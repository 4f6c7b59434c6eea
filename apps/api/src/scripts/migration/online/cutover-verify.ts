import { Client } from 'pg';
import { quoteIdentifier } from '../../../common/identifiers/identifier';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { checksumOfExpressionsSql, columnExpressions } from '../catalogue/catalogue';
import { projectionExpressions, targetColumnNames } from '../copy/table-copier';
import { CopyTask } from '../plan/plan-resolver';
import { releaseClients } from '../snapshot/exported-snapshot';
import { ChangedRows } from './changed-keys';
import { ONLINE_APPLICATION } from './monolith-objects';

/** Keys sent per query: array parameters of this size stay small on the wire and in the planner. */
const KEY_CHUNK = 20_000;

type Sums = { rows: bigint; checksum: bigint };

export type ChangedVerification = {
  mismatches: string[];
  /** Rows checked by key, over the tables checked by key. */
  keyedRows: number;
  /** Tables checked whole: keys past the cap, no usable key, TRUNCATE, or changed before a rerun. */
  wholeTables: string[];
};

/**
 * One REPEATABLE READ transaction per target database, its snapshot taken now: called during the
 * pause, after the drain, it freezes the targets as they are at the cutover, for the checks in the
 * pause and for the full verification after it.
 */
export async function freezeTargets(
  connections: PostgresConnectionFactory,
  locations: Record<SchemaKind, DatabaseLocation>,
): Promise<Map<SchemaKind, Client>> {
  const sessions = new Map<SchemaKind, Client>();
  try {
    await Promise.all(
      (Object.keys(locations) as SchemaKind[]).map(async (kind) => {
        const client = await connections.connect(locations[kind], {
          applicationName: `${ONLINE_APPLICATION}-verify`,
        });
        sessions.set(kind, client);
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        // The snapshot is taken by the transaction's first query, not by BEGIN.
        await client.query('SELECT 1');
      }),
    );
  } catch (error) {
    await releaseClients([...sessions.values()]);
    throw error;
  }
  return sessions;
}

/**
 * Count and checksum of what changed since the copy, the monolith (our session, under the locks)
 * against the frozen targets: for a table whose changed keys are known, only the rows with those
 * keys (a deleted row counts 0 on both sides), otherwise the whole table. Both sides are read with
 * this module's own SQL over the copy's projection, never with the applier's statements.
 */
export async function verifyChanged(
  session: Client,
  targets: Map<SchemaKind, Client>,
  context: { tasks: CopyTask[]; societeId: string; changedRows: (table: string) => ChangedRows },
  changed: string[],
): Promise<ChangedVerification> {
  const outcome: ChangedVerification = { mismatches: [], keyedRows: 0, wholeTables: [] };
  for (const task of context.tasks.filter((candidate) => changed.includes(candidate.source))) {
    const target = targets.get(task.database) as Client;
    const rows = usableKeys(task, context.changedRows(task.source));
    if (rows.kind === 'whole') outcome.wholeTables.push(task.source);
    else outcome.keyedRows += rows.keys.length;
    const keyed = rows.kind === 'keys' ? rows : null;
    const types = (side: 'sourceType' | 'targetType') =>
      (keyed?.columns ?? []).map((name) => task.columns.find((column) => column.name === name)?.[side] ?? '');
    const [sourceTypes, targetTypes] = [types('sourceType'), types('targetType')];
    const source: Sums = { rows: 0n, checksum: 0n };
    const copy: Sums = { rows: 0n, checksum: 0n };
    for (const part of keyed ? chunks(keyed.keys, KEY_CHUNK) : [[]]) {
      const values = keyed ? keyed.columns.map((_, index) => part.map((key) => key[index])) : [];
      const [left, right] = await Promise.all([
        session.query<{ rows: string; checksum: string }>(
          checksumOfExpressionsSql(
            { schema: 'public', name: task.source },
            [projectionExpressions(task, context.societeId)],
            keyed ? keyFilter(keyed.columns, sourceTypes) : undefined,
          ),
          values,
        ),
        target.query<{ rows: string; checksum: string }>(
          checksumOfExpressionsSql(
            { schema: 'public', name: task.target },
            [columnExpressions(targetColumnNames(task))],
            keyed ? keyFilter(keyed.columns, targetTypes) : undefined,
          ),
          values,
        ),
      ]);
      add(source, left.rows[0]);
      add(copy, right.rows[0]);
    }
    if (source.rows !== copy.rows || source.checksum !== copy.checksum)
      outcome.mismatches.push(
        `${task.source}${rows.kind === 'keys' ? ` (${rows.keys.length} changed key(s))` : ''}: monolith ${source.rows} rows, ${task.database}.${task.target} ${copy.rows} rows${
          source.rows === copy.rows ? ' (content differs)' : ''
        }`,
      );
  }
  return outcome;
}

/** Keys on columns the plan copies; otherwise the table is checked whole (never weaker). */
function usableKeys(task: CopyTask, rows: ChangedRows): ChangedRows {
  if (rows.kind === 'whole') return rows;
  const copied = rows.columns.every((name) => task.columns.some((column) => column.name === name));
  return copied && rows.columns.length > 0 ? rows : { kind: 'whole' };
}

/** `t`'s key among the keys sent as one text array per key column ($1, $2, …), cast to the side's types. */
function keyFilter(columns: string[], types: string[]): string {
  const names = columns.map((_, index) => `c${index}`);
  return `(${columns.map((column) => `t.${quoteIdentifier(column)}`).join(', ')}) IN (SELECT ${names
    .map((name, index) => `k.${name}::${types[index]}`)
    .join(
      ', ',
    )} FROM unnest(${names.map((_, index) => `$${index + 1}::text[]`).join(', ')}) AS k(${names.join(', ')}))`;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result.length > 0 ? result : [[]];
}

/** Checksums are exact sums of 64-bit hashes: the parts of a table add up to the whole. */
function add(sums: Sums, row: { rows: string; checksum: string }): void {
  sums.rows += BigInt(row.rows);
  sums.checksum += BigInt(row.checksum);
}
