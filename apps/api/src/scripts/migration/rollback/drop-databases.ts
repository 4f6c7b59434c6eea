import { RunContext } from '../../../common/run/run-context';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
} from '../../../modules/database/postgres-connection.factory';
import { BackupDatabaseEntry } from '../backup/backup-manifest';
import { compareFingerprints, DatabaseToBackUp, FingerprintDifference } from '../backup-current-database';
import { compareSchemas, computeSchemaFingerprint, SchemaDifference } from '../snapshot/schema-fingerprint';
import { computeFingerprints, fingerprintTargets } from '../snapshot/table-fingerprints';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { describeDifferences } from './rollback-messages';
import { RollbackState } from './rollback-state';

const locationOf = (database: {
  name: string;
  server?: string | null;
  host: string | null;
  port: number | null;
}): DatabaseLocation => ({
  database: database.name,
  server: database.server,
  host: database.host,
  port: database.port,
});

/** Dumps what is left to drop into one verified rollback backup, once per rollback (or after a refusal). */
async function preDropDump(
  dependencies: RollbackDependencies,
  state: RollbackState,
  run: RunContext,
): Promise<void> {
  const remaining = state.drop.filter((database) => !state.dropped.includes(database.name));
  if (remaining.length === 0 || state.preDropBackup) return;
  const existing: DatabaseToBackUp[] = [];
  for (const database of remaining) {
    if (await dependencies.admin.exists(locationOf(database)))
      existing.push({ location: locationOf(database), role: database.kind });
  }
  if (existing.length === 0) return;
  const dump = await run.step('pre-drop dump', () =>
    dependencies.backups.backup(existing, { kind: 'rollback', run }),
  );
  state.preDropBackup = dump.path;
  dependencies.stateFile.write(state);
  run.info(
    `Dumped ${existing.map((entry) => entry.location.database).join(', ')} to ${dump.path} (verified).`,
  );
}

/**
 * Dumps, then drops, AUTH, SHARED and the tenants: only once the monolith is back in place. Every
 * database is checked against its dump (doors closed) before any is dropped, so a refusal leaves
 * them all. The record reaches the disk before each DROP DATABASE (RollbackStateFile.write fsyncs).
 */
export async function dumpAndDrop(
  dependencies: RollbackDependencies,
  state: RollbackState,
  run: RunContext,
  lock: HeldLock,
): Promise<void> {
  await preDropDump(dependencies, state, run);
  const remaining = state.drop.filter((database) => !state.dropped.includes(database.name));
  const manifest = state.preDropBackup ? dependencies.catalog.readManifest(state.preDropBackup) : null;
  const closed: DatabaseLocation[] = [];
  const closing = (location: DatabaseLocation) => {
    closed.push(location);
    // On record before the doors close: after a kill -9 the rerun knows they were ours to reopen.
    state.closedDoors = [...new Set([...state.closedDoors, location.database])];
    dependencies.stateFile.write(state);
  };
  try {
    for (const database of remaining) {
      run.shutdown.throwIfRequested();
      if (!(await dependencies.admin.exists(locationOf(database)))) continue;
      const entry = manifest?.databases.find((candidate) => candidate.database === database.name);
      await run.step(`check ${database.name} against its dump`, () =>
        assertUnchangedSinceDump(dependencies, locationOf(database), entry, closing),
      );
    }
  } catch (error) {
    await reopenAfterRefusal(dependencies, state, closed, error);
    throw error;
  }
  for (const database of remaining) {
    lock.assertHeld();
    await run.step(`drop ${database.name}`, () =>
      dependencies.admin.drop(locationOf(database), { requireOwnership: true }),
    );
    state.dropped.push(database.name);
    state.closedDoors = state.closedDoors.filter((name) => name !== database.name);
    dependencies.stateFile.write(state);
    run.info(`Dropped ${database.name}.`);
  }
}

async function reopenAfterRefusal(
  dependencies: RollbackDependencies,
  state: RollbackState,
  closed: DatabaseLocation[],
  error: unknown,
): Promise<void> {
  const reopened = await Promise.all(
    closed.map((location) =>
      dependencies.admin.openDoors(location).then(
        () => location.database,
        () => null,
      ),
    ),
  );
  // Only what was actually reopened leaves the record: the rest is for the next run to reopen.
  state.closedDoors = state.closedDoors.filter((name) => !reopened.includes(name));
  if (error instanceof RollbackException && error.code === RollbackExceptionCode.WrittenAfterDump) {
    // The dump no longer holds everything: the next run takes a new one. A dump that already
    // holds databases dropped by an interrupted run is kept in the record.
    if (state.dropped.length > 0 && state.preDropBackup)
      state.earlierPreDropBackups.push(state.preDropBackup);
    state.preDropBackup = null;
  }
  dependencies.stateFile.write(state);
}

/**
 * Between a database's dump and its drop the application could still write to it. So the doors
 * are closed (no new session, the others ended) while a session of ours stays in, and the content
 * is compared with the dump's manifest: anything written after the dump stops the rollback here,
 * with the database intact, and the next run dumps it again.
 */
async function assertUnchangedSinceDump(
  dependencies: RollbackDependencies,
  location: DatabaseLocation,
  entry: BackupDatabaseEntry | undefined,
  closing: (location: DatabaseLocation) => void,
): Promise<void> {
  // An interrupted run may have left the doors closed: nobody, not even us, could connect.
  await dependencies.admin.openDoors(location);
  const guard = await dependencies.connections.connect(location, {
    applicationName: 'topsteel-rollback-guard',
  });
  let differences: FingerprintDifference[] = [];
  let schemaDifferences: SchemaDifference[] = [];
  try {
    const pid = (await guard.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    closing(location);
    await dependencies.admin.closeDoors(location, pid);
    await guard.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await guard.query(DETERMINISTIC_SESSION_SETTINGS);
    const current = await computeFingerprints([guard], await fingerprintTargets(guard));
    differences = entry
      ? compareFingerprints(entry.tables, current)
      : [{ table: '(no dump)', expected: null, actual: null }];
    // A view, function or default created after the dump would be dropped without a copy too.
    if (entry?.schema)
      schemaDifferences = compareSchemas(entry.schema, await computeSchemaFingerprint(guard));
  } finally {
    await guard.end().catch(() => undefined);
  }
  if (differences.length > 0 || schemaDifferences.length > 0) {
    throw new RollbackException(
      RollbackExceptionCode.WrittenAfterDump,
      `${location.database} changed after its pre-drop dump (${describeDifferences(differences, schemaDifferences)}): nothing was dropped, run db:rollback again to take a new dump`,
    );
  }
}

/**
 * A rollback killed while databases were closed (checking them against their dump, dropping them,
 * or swapping the monolith) leaves them refusing every session, ours included. The record names
 * the ones it closed: they are reopened, and the steps that follow close them again in order.
 */
export async function reopenDoors(
  dependencies: RollbackDependencies,
  state: RollbackState,
  run: RunContext,
): Promise<void> {
  for (const name of state.closedDoors) {
    const database = state.drop.find((candidate) => candidate.name === name);
    const location = {
      database: name,
      server: database?.server ?? null,
      host: database?.host ?? null,
      port: database?.port ?? null,
    };
    if (await dependencies.admin.exists(location)) {
      await dependencies.admin.openDoors(location);
      run.info(`Reopened ${name}, closed by the interrupted rollback.`);
    }
    state.closedDoors = state.closedDoors.filter((closedName) => closedName !== name);
    dependencies.stateFile.write(state);
  }
}
