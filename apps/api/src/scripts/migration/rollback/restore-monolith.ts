import { join } from 'node:path';
import { BackupException, BackupExceptionCode } from '../backup/backup.exception';
import { BackupDatabaseEntry } from '../backup/backup-manifest';
import { compareFingerprints } from '../backup-current-database';
import { compareSchemas } from '../snapshot/schema-fingerprint';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { describeDifferences } from './rollback-messages';
import { RollbackState } from './rollback-state';

/** A timed step whose name is remembered, so that a failure can say where the rollback stopped. */
export type RollbackStep = <T>(name: string, work: () => Promise<T>) => Promise<T>;

/** The backup and its monolith entry that the record plans to restore from. */
export function monolithBackup(
  dependencies: RollbackDependencies,
  state: RollbackState,
): { path: string; name: string; entry: BackupDatabaseEntry } {
  const backup = state.backup;
  const manifest = backup ? dependencies.catalog.readManifest(backup.path) : null;
  const entry = manifest?.databases.find(
    (candidate) => candidate.role === 'monolith' && candidate.database === state.monolith,
  );
  if (!backup || !entry) {
    // validate() plans a restore only with a backup named by the journal or --backup.
    throw new RollbackException(
      RollbackExceptionCode.Inconsistent,
      `${dependencies.stateFile.path} plans a restore of ${state.monolith} but names no readable backup of it`,
    );
  }
  return { ...backup, entry };
}

/**
 * Restores the backup into a new database (the record's `restore.newName`) and verifies it against
 * the manifest: rows, checksums and structure, sequences exactly where they were. Nothing else is
 * touched: the monolith, AUTH, SHARED and the tenants stay as they are and open.
 */
export async function restoreIntoNewDatabase(
  dependencies: RollbackDependencies,
  state: RollbackState,
  step: RollbackStep,
): Promise<void> {
  const { admin, backups, stateFile } = dependencies;
  const backup = monolithBackup(dependencies, state);
  const fresh = { database: state.restore.newName };
  // A half-restored database from an interrupted run is ours (recorded in the state): start it again.
  await admin.drop(fresh, { requireOwnership: false });
  await admin.create(fresh, {
    encoding: backup.entry.encoding,
    collate: backup.entry.collate,
    ctype: backup.entry.ctype,
    asMonolithReplacement: true,
  });
  await step('restore the monolith backup into a new database', () =>
    backups.restore(join(backup.path, backup.entry.file), fresh),
  );
  const restored = await step('verify the restore', () => backups.describe(fresh));
  const differences = compareFingerprints(backup.entry.tables, restored.tables);
  // Nothing has used the new database yet: every sequence must stand exactly where it was.
  const schemaDifferences = backup.entry.schema
    ? compareSchemas(backup.entry.schema, restored.schema, { exactSequences: true })
    : [];
  if (differences.length > 0 || schemaDifferences.length > 0) {
    throw new BackupException(
      BackupExceptionCode.Mismatch,
      `the restored database differs from the manifest (${describeDifferences(differences, schemaDifferences)})`,
    );
  }
  state.restore.restored = true;
  stateFile.write(state);
}
