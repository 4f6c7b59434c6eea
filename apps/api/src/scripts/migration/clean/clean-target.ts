import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { CleanTarget } from './clean-rules';

type Names = Pick<MultiTenantDatabaseConfig, 'monolithDatabase' | 'authDatabase'>;

/** The monolith, or AUTH once the split is complete (cleaning it mid-split would break resume and verify). */
export async function cleanLocation(
  config: Names,
  journal: MigrationJournalService,
  target: CleanTarget,
): Promise<DatabaseLocation> {
  if (target === 'monolith') return { database: config.monolithDatabase };
  const contents = await journal.read();
  if (contents?.split?.status !== 'complete')
    throw new CleanException(
      CleanExceptionCode.TargetNotReady,
      contents?.split
        ? `the split recorded in ${config.authDatabase} is ${contents.split.status}, not complete`
        : `${config.authDatabase} holds no completed split`,
    );
  return { database: config.authDatabase };
}

/** Why the monolith must not change any more (a split is recorded), or null. */
export async function splitRecorded(config: Names, journal: MigrationJournalService): Promise<string | null> {
  const split = (await journal.read())?.split;
  return split
    ? `a split is recorded in ${config.authDatabase} (${split.status}): the monolith stays as the split read it`
    : null;
}
