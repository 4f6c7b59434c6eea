import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { DatabaseFingerprint } from '../backup/backup-manifest';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { planDrift, ResolvedPlan } from '../plan/plan-resolver';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { computeSchemaFingerprint } from '../snapshot/schema-fingerprint';
import { computeFingerprints, FingerprintTarget, fingerprintTargets } from '../snapshot/table-fingerprints';

/** Step 2a: the plan was resolved before this snapshot, so it must still describe exactly what the snapshot holds. */
export async function assertPlanMatchesSnapshot(
  plan: ResolvedPlan,
  snapshot: ExportedSnapshot,
): Promise<FingerprintTarget[]> {
  const sourceTables = await fingerprintTargets(snapshot.client);
  const drift = planDrift(plan, sourceTables);
  if (drift.length > 0) {
    throw new MigrationException(
      MigrationExceptionCode.PreflightFailed,
      `the monolith changed during the pre-flight, nothing was copied:\n${drift.map((problem) => `  ❌ ${problem}`).join('\n')}`,
      { drift },
    );
  }
  return sourceTables;
}

/** What the snapshot holds, and the backup proven to hold the same when one is. */
export type SnapshotContent = { content: DatabaseFingerprint; provenBackup?: string };

/**
 * Step 2b: the content and structure of the monolith in the snapshot. The structure too: a backup
 * is reused only if it also holds the monolith's schema as it is. A backup whose manifest carries
 * its snapshot's horizon is proven to hold the same rows by one scan without checksums; otherwise
 * every row is checksummed. `jobs` sessions share the snapshot (the copy workers have not opened
 * theirs yet, so this stays in the budget).
 */
export async function fingerprintSnapshot(
  snapshot: ExportedSnapshot,
  sourceTables: FingerprintTarget[],
  options: { jobs?: number; backups?: BackupCurrentDatabaseService } = {},
): Promise<SnapshotContent> {
  const sessions: Client[] = [];
  try {
    for (let index = 0; index < Math.max(1, options.jobs ?? 1); index++)
      sessions.push(await snapshot.join('topsteel-migrate-fingerprint'));
    const schema = await computeSchemaFingerprint(sessions[0]);
    const proven = await options.backups?.findBackupUnchangedSince(snapshot.location.database, sessions, {
      schema,
      tables: sourceTables,
    });
    if (proven) return { content: { tables: proven.entry.tables, schema }, provenBackup: proven.path };
    return { content: { tables: await computeFingerprints(sessions, sourceTables), schema } };
  } finally {
    await releaseClients(sessions);
  }
}

/** Step 2c: a backup that matches the snapshot, reused when one exists, else taken in the snapshot itself. */
export async function backupStep(
  backups: BackupCurrentDatabaseService,
  monolith: DatabaseLocation,
  snapshot: ExportedSnapshot,
  { content, provenBackup }: SnapshotContent,
  run: RunContext,
): Promise<{ path: string; reused: boolean }> {
  return run.step('backup', async () => {
    if (provenBackup) {
      run.info(
        `Reusing backup ${provenBackup} (same structure, and no row of the monolith written or deleted since its dump).`,
      );
      return { path: provenBackup, reused: true };
    }
    const existing = await backups.findMatchingBackup(monolith.database, content);
    if (existing) {
      run.info(`Reusing backup ${existing.path} (it matches the monolith's current content and structure).`);
      return { path: existing.path, reused: true };
    }
    run.info('No backup matches the monolith: taking one in the copy snapshot.');
    const taken = await backups.backupInSnapshot(
      { location: monolith, role: 'monolith' },
      snapshot,
      content,
      run,
    );
    return { path: taken.path, reused: false };
  });
}
