import { RunContext } from '../../../common/run/run-context';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { CoveringBackup } from './clean-execution';
import { CleanBackupReport, CleanExecuteOptions } from './clean-report';

/**
 * A verified pre-migration backup of the monolith, no older than --max-backup-age, whose manifest
 * matches the monolith's current counts and checksums; else one taken now (or a refusal with
 * --no-auto-backup). The transaction checks again, under its locks, that the tables it changes
 * still match it.
 */
export async function ensureCoveringBackup(
  backups: BackupCurrentDatabaseService,
  database: string,
  options: Pick<CleanExecuteOptions, 'maxBackupAgeMs' | 'autoBackup'>,
  run: RunContext,
): Promise<{ backup: CoveringBackup; report: CleanBackupReport }> {
  const location = { database };
  const content = await run.step('fingerprint the monolith', () => backups.describe(location));
  const match = await run.step('find a matching backup', () => backups.findMatchingBackup(database, content));
  const ageMs = match ? Date.now() - Date.parse(match.manifest.createdAt) : null;
  if (match && ageMs !== null && ageMs <= options.maxBackupAgeMs) {
    // The backup's own record, never the live fingerprint: the clean re-checks the tables against it.
    return {
      backup: { name: match.name, path: match.path, tables: match.entry.tables },
      report: {
        policy: 'matching',
        name: match.name,
        path: match.path,
        createdAt: match.manifest.createdAt,
        detail: `${match.path} (verified, ${Math.round(ageMs / 60000)} min old, matches the monolith)`,
      },
    };
  }
  const why = match
    ? `the newest backup matching the monolith (${match.name}) is older than --max-backup-age`
    : 'no verified backup matches the monolith as it is now';
  if (!options.autoBackup)
    throw new CleanException(
      CleanExceptionCode.BackupRequired,
      `${why}, and --no-auto-backup forbids taking one`,
    );
  run.info(`${why}: taking one now.`);
  const taken = await run.step('backup', () =>
    backups.backup([{ location, role: 'monolith' }], { kind: 'pre-migration', run }),
  );
  const entry = taken.manifest.databases.find((candidate) => candidate.database === database);
  return {
    backup: { name: taken.name, path: taken.path, tables: entry?.tables ?? {} },
    report: {
      policy: 'taken',
      name: taken.name,
      path: taken.path,
      createdAt: taken.manifest.createdAt,
      detail: `${taken.path} (taken now: ${why})`,
    },
  };
}
