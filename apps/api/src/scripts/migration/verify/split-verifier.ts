import { Client } from 'pg';
import { RunProgress } from '../../../common/run/run-context';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { checksumOfExpressionsSql, checksumSql } from '../catalogue/catalogue';
import { projectionExpressions, targetColumnNames } from '../copy/table-copier';
import { JOURNAL_SCHEMA } from '../../../modules/database/journal/journal.schema';
import { DatabaseSnapshot } from '../../../modules/database/journal/journal.types';
import { CopyTask, planDrift, ResolvedPlan } from '../plan/plan-resolver';
import { CutReference } from '../plan/plan.types';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { FingerprintTarget, fingerprintTargets } from '../snapshot/table-fingerprints';
import { danglingAcrossDatabases, danglingInSource } from './reference-check';
import { countTables, withCounter } from './verify-progress';

export type TableVerification = {
  source: string;
  target: string;
  database: SchemaKind;
  sourceRows: number | null;
  targetRows: number | null;
  sourceChecksum: string | null;
  targetChecksum: string | null;
  ok: boolean;
};

export type ReferenceVerification = {
  reference: string;
  sourceDangling: number | null;
  targetDangling: number;
  ok: boolean;
};

export type VerificationReport = {
  ok: boolean;
  /** Schema problems: the source no longer matching the plan, foreign keys left unvalidated. */
  problems: string[];
  tables: TableVerification[];
  references: ReferenceVerification[];
  /** All-column fingerprints of every table of the new databases, for the journal. */
  snapshots: DatabaseSnapshot[];
  durationMs: number;
};

export type VerifyOptions = {
  tasks: CopyTask[];
  cutReferences: CutReference[];
  locations: Record<SchemaKind, DatabaseLocation>;
  /** The monolith, read in a fresh snapshot; without it targets are compared with `expected`. */
  source?: DatabaseLocation;
  /** What the journal recorded when the split completed (`database.table` -> fingerprint), used when the monolith is gone. */
  expected?: Map<string, { rows: number; checksum: string }>;
  /** Dangling counts the monolith had, per reference, used when the monolith is gone. */
  referenceBaselines?: Map<string, number>;
  /** The source read in a snapshot the caller holds (the online split's slot snapshot) instead of a fresh one. */
  sourceSnapshot?: ExportedSnapshot;
  /** With the source: the plan whose tables and columns the fresh snapshot must still match. */
  plan?: ResolvedPlan;
  /** The default société's id, which the copy wrote into every tenant row. */
  societeId: string;
  jobs: number;
  /** Where the per-table progress goes (one line per database, counting tables). */
  progress?: RunProgress;
};

export const taskKey = (database: string, table: string): string => `${database}.${table}`;

/**
 * The proof of invariant 1: for every copied table, row count and content checksum, computed by
 * PostgreSQL on both sides (the source in a fresh snapshot), must be equal; and no cut
 * cross-database reference may dangle that did not dangle in the monolith. The checksum covers
 * every legacy column and also the columns the split added (the source side hashes the copy's own
 * projection, société id and derived expires_at included), so one hash per row and side proves
 * both. The same scan of the targets fingerprints every table for the journal.
 */
export async function verifySplit(
  connections: PostgresConnectionFactory,
  options: VerifyOptions,
): Promise<VerificationReport> {
  const started = Date.now();
  const snapshot = options.sourceSnapshot
    ? options.sourceSnapshot
    : options.source
      ? await ExportedSnapshot.open(connections, options.source, { applicationName: 'topsteel-verify' })
      : undefined;
  const sourceSessions: Client[] = [];
  const targetSessions = new Map<SchemaKind, Client>();
  try {
    const kinds = Object.keys(options.locations) as SchemaKind[];
    for (const kind of kinds) {
      const client = await connections.connect(options.locations[kind], {
        applicationName: 'topsteel-verify',
      });
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await client.query(DETERMINISTIC_SESSION_SETTINGS);
      targetSessions.set(kind, client);
    }
    if (snapshot) {
      const sourceCount = Math.max(1, Math.floor(options.jobs / 2));
      for (let index = 0; index < sourceCount; index++)
        sourceSessions.push(await snapshot.join('topsteel-verify-source'));
    }

    const problems: string[] = [];
    if (snapshot && options.plan)
      problems.push(...planDrift(options.plan, await fingerprintTargets(snapshot.client)));
    for (const [kind, client] of targetSessions) {
      const unvalidated = await client.query<{ name: string }>(
        `SELECT k.conrelid::regclass::text || '.' || k.conname AS name FROM pg_constraint k WHERE k.contype = 'f' AND NOT k.convalidated`,
      );
      for (const row of unvalidated.rows) problems.push(`foreign key ${kind}.${row.name} is not validated`);
    }

    const targetTables = new Map<SchemaKind, FingerprintTarget[]>();
    for (const [kind, client] of targetSessions)
      targetTables.set(kind, await fingerprintTargets(client, { excludeSchemas: [JOURNAL_SCHEMA] }));

    const sourceResults = new Map<string, { rows: number; checksum: string }>();
    const targetResults = new Map<string, { rows: number; checksum: string; all: string }>();
    const snapshots: DatabaseSnapshot[] = kinds.map((kind) => ({
      database: options.locations[kind].database,
      tables: {},
      takenAt: new Date().toISOString(),
    }));
    const taskByTarget = new Map(options.tasks.map((task) => [taskKey(task.database, task.target), task]));

    const sourceWork = async () => {
      if (sourceSessions.length === 0) return;
      const free = [...sourceSessions];
      const counter = countTables(
        options.progress,
        `verify ${snapshot?.location.database ?? 'source'}`,
        options.tasks.length,
      );
      await withCounter(counter, () =>
        mapWithConcurrency(
          [...options.tasks].sort((left, right) => right.sizeBytes - left.sizeBytes),
          sourceSessions.length,
          async (task) => {
            const session = free.pop() as Client;
            try {
              const result = await session.query<{ rows: string; checksum: string }>(
                checksumOfExpressionsSql({ schema: 'public', name: task.source }, [
                  projectionExpressions(task, options.societeId),
                ]),
              );
              sourceResults.set(task.source, {
                rows: Number(result.rows[0].rows),
                checksum: result.rows[0].checksum,
              });
              counter.tick();
            } finally {
              free.push(session);
            }
          },
        ).then(rethrowFirst),
      );
    };
    const targetWork = async () => {
      await Promise.all(
        kinds.map(async (kind, index) => {
          const session = targetSessions.get(kind) as Client;
          const tables = targetTables.get(kind) ?? [];
          const counter = countTables(
            options.progress,
            `verify ${options.locations[kind].database}`,
            tables.length,
          );
          await withCounter(counter, async () => {
            for (const table of tables) {
              const task =
                table.schema === 'public' ? taskByTarget.get(taskKey(kind, table.name)) : undefined;
              // A copied table is hashed over exactly the columns the copy wrote; when those are all its
              // columns (the usual case) that one hash is also its fingerprint for the journal.
              const written = task ? targetColumnNames(task) : undefined;
              const reusable =
                written !== undefined && written.join('\u0000') === table.columns.join('\u0000');
              const columnSets = written
                ? reusable
                  ? [written]
                  : [written, table.columns]
                : [table.columns];
              const result = await session.query<{ rows: string; checksum: string; checksum1?: string }>(
                checksumSql(table, columnSets),
              );
              const row = result.rows[0];
              snapshots[index].tables[`${table.schema}.${table.name}`] = {
                rows: Number(row.rows),
                checksum: row.checksum1 ?? row.checksum,
              };
              if (task)
                targetResults.set(taskKey(kind, task.target), {
                  rows: Number(row.rows),
                  checksum: row.checksum,
                  all: row.checksum1 ?? '',
                });
              counter.tick();
            }
          });
        }),
      );
    };
    await Promise.all([sourceWork(), targetWork()]);

    const tables: TableVerification[] = options.tasks.map((task) => {
      const expected = snapshot
        ? sourceResults.get(task.source)
        : options.expected?.get(taskKey(task.database, task.target));
      const actual = targetResults.get(taskKey(task.database, task.target));
      return {
        source: task.source,
        target: task.target,
        database: task.database,
        sourceRows: expected?.rows ?? null,
        targetRows: actual?.rows ?? null,
        sourceChecksum: expected?.checksum ?? null,
        targetChecksum: actual?.checksum ?? null,
        ok: Boolean(
          expected && actual && expected.rows === actual.rows && expected.checksum === actual.checksum,
        ),
      };
    });

    const references: ReferenceVerification[] = [];
    for (const reference of options.cutReferences) {
      const referencing = targetSessions.get(reference.from.database);
      const referenced = targetSessions.get(reference.to.database);
      if (!referencing || !referenced) continue;
      const name = referenceName(reference);
      const targetDangling = await outsideTransaction(referencing, () =>
        danglingAcrossDatabases(referencing, referenced, reference),
      );
      const sourceDangling = sourceSessions[0]
        ? await danglingInSource(sourceSessions[0], reference)
        : (options.referenceBaselines?.get(name) ?? null);
      references.push({
        reference: name,
        sourceDangling,
        targetDangling,
        ok: targetDangling <= (sourceDangling ?? 0),
      });
    }
    return {
      ok:
        problems.length === 0 &&
        tables.every((table) => table.ok) &&
        references.every((reference) => reference.ok),
      problems,
      tables,
      references,
      snapshots,
      durationMs: Date.now() - started,
    };
  } finally {
    await releaseClients([...sourceSessions, ...targetSessions.values()]);
    if (snapshot !== options.sourceSnapshot) await snapshot?.close();
  }
}

function rethrowFirst(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

export function referenceName(reference: CutReference): string {
  return `${reference.from.database}.${reference.from.table}.${reference.from.column} -> ${reference.to.database}.${reference.to.table}.${reference.to.column}`;
}

/** The target sessions hold a read transaction; the reference check needs one of its own for its temporary table. */
async function outsideTransaction<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await client.query('COMMIT');
  try {
    return await work();
  } finally {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  }
}
