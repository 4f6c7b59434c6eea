import { Client } from 'pg';
import { RunProgress } from '../../../common/run/run-context';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { DatabaseSnapshot } from '../../../modules/database/journal/journal.types';
import { checksumOfExpressionsSql, checksumSql } from '../catalogue/catalogue';
import { HashedColumn, typedChecksumSql, typedColumns } from '../catalogue/typed-checksum';
import { projectionExpressions, targetColumnNames } from '../copy/table-copier';
import { CopyTask } from '../plan/plan-resolver';
import { FingerprintHash, FingerprintTarget } from '../snapshot/table-fingerprints';
import { countTables, withCounter } from './verify-progress';

export type Fingerprint = { rows: number; checksum: string };

export const taskKey = (database: string, table: string): string => `${database}.${table}`;

/**
 * The source side: each copied table hashed over the copy's own projection (société id and
 * derived columns included), largest tables first, over the sessions given (all in one snapshot).
 */
export async function checksumSources(
  sessions: Client[],
  tasks: CopyTask[],
  options: {
    societeId: string;
    progress?: RunProgress;
    label: string;
    onTable?: () => void;
    hash: FingerprintHash;
  },
): Promise<Map<string, Fingerprint>> {
  const results = new Map<string, Fingerprint>();
  if (sessions.length === 0) return results;
  const free = [...sessions];
  const counter = countTables(options.progress, options.label, tasks.length);
  await withCounter(counter, () =>
    mapWithConcurrency(
      [...tasks].sort((left, right) => right.sizeBytes - left.sizeBytes),
      sessions.length,
      async (task) => {
        const session = free.pop() as Client;
        try {
          const result = await session.query<{ rows: string; checksum: string }>(
            sourceChecksumSql(task, options.societeId, options.hash),
          );
          results.set(task.source, { rows: Number(result.rows[0].rows), checksum: result.rows[0].checksum });
          counter.tick();
          options.onTable?.();
        } finally {
          free.push(session);
        }
      },
    ).then(rethrowFirst),
  );
  return results;
}

export type TargetChecksums = {
  /** Copied tables, by `kind.target`: the hash over the columns the copy wrote. */
  results: Map<string, Fingerprint>;
  /** Every table of every target, over all its columns, for the journal. */
  snapshots: DatabaseSnapshot[];
};

/**
 * The target side: every table of every target database, the databases in parallel, each over its
 * sessions (all in one snapshot of that database, the first one's), largest tables first.
 */
export async function checksumTargets(
  sessions: Map<SchemaKind, Client[]>,
  tables: Map<SchemaKind, FingerprintTarget[]>,
  options: {
    tasks: CopyTask[];
    locations: Record<SchemaKind, DatabaseLocation>;
    progress?: RunProgress;
    /** `text` on a server older than 14, or to compare with a journal of text checksums. */
    hash: FingerprintHash;
  },
): Promise<TargetChecksums> {
  const results = new Map<string, Fingerprint>();
  const taskByTarget = new Map(options.tasks.map((task) => [taskKey(task.database, task.target), task]));
  const snapshots = await Promise.all(
    [...sessions].map(async ([kind, clients]): Promise<DatabaseSnapshot> => {
      const snapshot: DatabaseSnapshot = {
        database: options.locations[kind].database,
        tables: {},
        takenAt: new Date().toISOString(),
      };
      const own = tables.get(kind) ?? [];
      const counter = countTables(options.progress, `verify ${snapshot.database}`, own.length);
      const free = [...clients];
      await withCounter(counter, () =>
        mapWithConcurrency(own, clients.length, async (table) => {
          const session = free.pop() as Client;
          try {
            const task = table.schema === 'public' ? taskByTarget.get(taskKey(kind, table.name)) : undefined;
            const row = await checksumTarget(session, table, task, options.hash);
            snapshot.tables[`${table.schema}.${table.name}`] = { rows: row.rows, checksum: row.all };
            if (task) results.set(taskKey(kind, task.target), { rows: row.rows, checksum: row.written });
            counter.tick();
          } finally {
            free.push(session);
          }
        }).then(rethrowFirst),
      );
      return snapshot;
    }),
  );
  return { results, snapshots };
}

/**
 * A copied table is hashed over exactly the columns the copy wrote; when those are all its
 * columns (the usual case) that one hash is also its fingerprint for the journal.
 */
async function checksumTarget(
  session: Client,
  table: FingerprintTarget,
  task: CopyTask | undefined,
  hash: FingerprintHash,
): Promise<{ rows: number; written: string; all: string }> {
  const all = { names: table.columns, types: table.types };
  const written = task ? { names: targetColumnNames(task), types: targetColumnTypes(task) } : undefined;
  const reusable = written !== undefined && sameColumns(written, all);
  const columnSets = written ? (reusable ? [written] : [written, all]) : [all];
  const result = await session.query<{ rows: string; checksum: string; checksum1?: string }>(
    hash === 'typed'
      ? typedChecksumSql(
          table,
          columnSets.map((set) => typedColumns(set.names, set.types)),
        )
      : checksumSql(
          table,
          columnSets.map((set) => set.names),
        ),
  );
  const row = result.rows[0];
  return { rows: Number(row.rows), written: row.checksum, all: row.checksum1 ?? row.checksum };
}

function sourceChecksumSql(task: CopyTask, societeId: string, hash: FingerprintHash): string {
  const table = { schema: 'public', name: task.source };
  return hash === 'typed'
    ? typedChecksumSql(table, [sourceColumns(task, societeId)])
    : checksumOfExpressionsSql(table, [projectionExpressions(task, societeId)]);
}

/**
 * The copy's projection as the verification hashes it: each value typed as its target column, so
 * that both sides hash every column the same way (the target side reads the column itself).
 */
function sourceColumns(task: CopyTask, societeId: string): HashedColumn[] {
  const types = targetColumnTypes(task);
  return projectionExpressions(task, societeId).map((expression, index) => ({
    expression,
    type: types[index],
  }));
}

const targetColumnTypes = (task: CopyTask): string[] => [
  ...task.columns.map((column) => column.targetType),
  ...task.addedColumns.map((column) => column.type),
];

type ColumnSet = { names: string[]; types: string[] };

const sameColumns = (left: ColumnSet, right: ColumnSet): boolean =>
  left.names.join('\u0000') === right.names.join('\u0000') &&
  left.types.join('\u0000') === right.types.join('\u0000');

function rethrowFirst(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
