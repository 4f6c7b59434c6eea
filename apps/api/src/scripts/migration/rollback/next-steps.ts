import { quoteIdentifier } from '../../../common/identifiers/identifier';
import { BackupCatalogService } from '../backup/backup-catalog.service';
import { RollbackState } from './rollback-state';

/** What the operator does after a finished rollback. */
export function nextSteps(catalog: BackupCatalogService, state: RollbackState): string[] {
  return [
    'Restart the application on the monolith: set DB_MODE=monolith in .env (or the environment) and restart it; no code change is needed.',
    state.preDropBackup ? `The dropped databases are dumped in ${state.preDropBackup}.` : '',
    ...state.earlierPreDropBackups.map(
      (folder) => `Databases dropped by an interrupted earlier attempt are dumped in ${folder}.`,
    ),
    state.restore.replacedName && state.restore.swapped
      ? `The monolith as it was before the restore is kept as ${state.restore.replacedName}; drop it once you are satisfied (DROP DATABASE "${state.restore.replacedName}").`
      : '',
    ...databaseLevelSteps(catalog, state),
    'npm run db:status shows the result.',
  ].filter(Boolean);
}

/**
 * pg_dump -Fc does not carry ALTER DATABASE ... SET nor the database's own GRANTs, so a restored
 * monolith lacks them. They are printed, not replayed: they belong to the operator's roles and the
 * tool has no business granting privileges on its own.
 */
function databaseLevelSteps(catalog: BackupCatalogService, state: RollbackState): string[] {
  if (!state.restore.needed || !state.restore.swapped || !state.backup) return [];
  const entry = catalog
    .readManifest(state.backup.path)
    ?.databases.find((candidate) => candidate.role === 'monolith' && candidate.database === state.monolith);
  const steps: string[] = [];
  if (entry?.settings?.length) {
    steps.push(
      `The backup recorded database-level settings that pg_restore does not restore; reapply them if they still apply: ${entry.settings
        .map(
          (setting) => `ALTER DATABASE ${quoteIdentifier(state.monolith)} SET ${setting.replace('=', ' = ')}`,
        )
        .join('; ')}`,
    );
  }
  if (entry?.acl) {
    steps.push(
      `The monolith had database privileges ${entry.acl} (CONNECT/CREATE/TEMP grants); the restored database has the defaults: re-grant them as needed.`,
    );
  }
  return steps;
}
