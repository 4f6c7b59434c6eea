import { Client } from 'pg';
import { RunProgress } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { JOURNAL_SCHEMA } from '../../../modules/database/journal/journal.schema';
import { DatabaseSnapshot } from '../../../modules/database/journal/journal.types';
import { CopyTask, planDrift, ResolvedPlan } from '../plan/plan-resolver';
import { CutReference } from '../plan/plan.types';
import { isTypedChecksum, supportsTypedChecksums } from '../catalogue/typed-checksum';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { FingerprintHash, FingerprintTarget, fingerprintTargets } from '../snapshot/table-fingerprints';
import { danglingAcrossDatabases, danglingInSource } from './reference-check';
import { openSessions, Sessions, withHelpers } from './verify-sessions';
import { CopySnapshotChecksums } from './copy-snapshot-checksums';
import { checksumSources, checksumTargets, Fingerprint, taskKey } from './verify-checksums';
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
  /**
   * With the source read beside the copy: source tables whose checksum from the copy's snapshot
   * the fresh snapshot proved still right, and those checksummed again in the fresh snapshot.
   */
  sourceReads?: { copySnapshot: number; fresh: number };
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
  /**
   * Target sessions already in a REPEATABLE READ transaction (the targets frozen at the online
   * split's cutover), read as they are and left open for the caller; fresh ones otherwise.
   */
  targetSessions?: Map<SchemaKind, Client>;
  /** Schemas of the targets left out besides the journal's (the online split's position table). */
  excludeSchemas?: string[];
  /** The default société's id, which the copy wrote into every tenant row. */
  societeId: string;
  jobs: number;
  /** Where the per-table progress goes (one line per database, counting tables). */
  progress?: RunProgress;
  /** The source's checksums taken in the copy's snapshot, kept where the fresh snapshot proves them right. */
  copySnapshot?: CopySnapshotChecksums;
  /**
   * Set when the verification starts while the split still validates the foreign keys it set
   * aside (no row changes then): the tables are hashed meanwhile, and the check that every key is
   * validated waits for this and reads the catalogue as it stands after it.
   */
  keysRestored?: Promise<unknown>;
};

export { taskKey } from './verify-checksums';

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
  const sessions: Sessions = { source: [], targets: new Map(), helpers: new Map() };
  try {
    await openSessions(connections, options, snapshot, sessions);
    const targetTables = new Map<SchemaKind, FingerprintTarget[]>();
    for (const [kind, client] of sessions.targets)
      targetTables.set(
        kind,
        await fingerprintTargets(client, {
          excludeSchemas: [JOURNAL_SCHEMA, ...(options.excludeSchemas ?? [])],
        }),
      );
    const hash = await checksumKind(options, sessions);
    const [sources, targets] = await Promise.all([
      sourceChecksums(
        sessions.source,
        { ...options, hash },
        `verify ${snapshot?.location.database ?? 'source'}`,
      ),
      checksumTargets(withHelpers(sessions), targetTables, { ...options, hash }),
    ]);
    const problems = await structuralProblems(options, snapshot, sessions.targets);
    const tables = compareTables(options, snapshot ? sources.checksums : undefined, targets.results);
    const references = await checkReferences(options, sessions);
    return {
      ok:
        problems.length === 0 &&
        tables.every((table) => table.ok) &&
        references.every((reference) => reference.ok),
      problems,
      tables,
      references,
      snapshots: targets.snapshots,
      ...(options.copySnapshot ? { sourceReads: sources.reads } : {}),
      durationMs: Date.now() - started,
    };
  } finally {
    await releaseClients([
      ...sessions.source,
      ...[...sessions.helpers.values()].flat(),
      ...(options.targetSessions ? [] : [...sessions.targets.values()]),
    ]);
    if (snapshot !== options.sourceSnapshot) await snapshot?.close();
  }
}

/**
 * Typed checksums on both sides (catalogue/typed-checksum.ts), except where a server is older than
 * 14, or against a journal recorded before splits verified that way: its text checksums are
 * compared with text ones.
 */
async function checksumKind(options: VerifyOptions, sessions: Sessions): Promise<FingerprintHash> {
  for (const session of [...sessions.source.slice(0, 1), ...sessions.targets.values()])
    if (!(await supportsTypedChecksums(session))) return 'text';
  if (sessions.source.length > 0 || !options.expected) return 'typed';
  return [...options.expected.values()].every((expected) => isTypedChecksum(expected.checksum))
    ? 'typed'
    : 'text';
}

/**
 * The source side in the fresh snapshot: each table's checksum from the copy's snapshot where this
 * snapshot provably holds the same rows, every other table checksummed here.
 */
async function sourceChecksums(
  sessions: Client[],
  options: VerifyOptions & { hash: FingerprintHash },
  label: string,
): Promise<{ checksums: Map<string, Fingerprint>; reads: { copySnapshot: number; fresh: number } }> {
  const { copySnapshot, societeId, progress, tasks, hash } = options;
  if (!copySnapshot) {
    const fresh = await checksumSources(sessions, tasks, { societeId, progress, label, hash });
    return { checksums: fresh, reads: { copySnapshot: 0, fresh: fresh.size } };
  }
  // One line for the monolith, as before: tables checksummed beside the copy and proven, then the rest.
  const counter = countTables(progress, label, tasks.length);
  let settled = new Map<string, Fingerprint>();
  let fresh = new Map<string, Fingerprint>();
  await withCounter(counter, async () => {
    settled = await copySnapshot.settle(sessions, tasks, hash);
    for (let index = 0; index < settled.size; index++) counter.tick();
    const rest = tasks.filter((task) => !settled.has(task.source));
    fresh = await checksumSources(sessions, rest, { societeId, label, hash, onTable: () => counter.tick() });
  });
  return {
    checksums: new Map([...settled, ...fresh]),
    reads: { copySnapshot: settled.size, fresh: fresh.size },
  };
}

/** The source no longer matching the plan, and foreign keys the load left unvalidated. */
async function structuralProblems(
  options: VerifyOptions,
  snapshot: ExportedSnapshot | undefined,
  targets: Map<SchemaKind, Client>,
): Promise<string[]> {
  const problems: string[] = [];
  if (snapshot && options.plan)
    problems.push(...planDrift(options.plan, await fingerprintTargets(snapshot.client)));
  // Hashed beside the keys' validation: the sessions' snapshot predates it, the catalogue is read after.
  if (options.keysRestored) await options.keysRestored;
  for (const [kind, client] of targets) {
    const unvalidatedKeys = () =>
      client.query<{ name: string }>(
        `SELECT k.conrelid::regclass::text || '.' || k.conname AS name FROM pg_constraint k WHERE k.contype = 'f' AND NOT k.convalidated`,
      );
    const unvalidated = options.keysRestored
      ? await outsideTransaction(client, unvalidatedKeys)
      : await unvalidatedKeys();
    for (const row of unvalidated.rows) problems.push(`foreign key ${kind}.${row.name} is not validated`);
  }
  return problems;
}

/** Each copied table: the source's hash (or the journal's, when the monolith is gone) against the target's. */
function compareTables(
  options: VerifyOptions,
  sources: Map<string, Fingerprint> | undefined,
  targets: Map<string, Fingerprint>,
): TableVerification[] {
  return options.tasks.map((task) => {
    const expected = sources
      ? sources.get(task.source)
      : options.expected?.get(taskKey(task.database, task.target));
    const actual = targets.get(taskKey(task.database, task.target));
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
}

/** No cut reference may dangle in the targets more than it already did in the monolith. */
async function checkReferences(options: VerifyOptions, sessions: Sessions): Promise<ReferenceVerification[]> {
  const references: ReferenceVerification[] = [];
  for (const reference of options.cutReferences) {
    const referencing = sessions.targets.get(reference.from.database);
    const referenced = sessions.targets.get(reference.to.database);
    if (!referencing || !referenced) continue;
    const name = referenceName(reference);
    // The caller's sessions keep their snapshot: the check runs inside it, under a savepoint.
    const targetDangling = options.targetSessions
      ? await danglingAcrossDatabases(referencing, referenced, reference, { inTransaction: true })
      : await outsideTransaction(referencing, () =>
          danglingAcrossDatabases(referencing, referenced, reference),
        );
    const sourceDangling = sessions.source[0]
      ? await danglingInSource(sessions.source[0], reference)
      : (options.referenceBaselines?.get(name) ?? null);
    references.push({
      reference: name,
      sourceDangling,
      targetDangling,
      ok: targetDangling <= (sourceDangling ?? 0),
    });
  }
  return references;
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
