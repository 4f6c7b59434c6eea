import { JOURNAL_SCHEMA } from '../../../modules/database/journal/journal.schema';
import { DatabaseSnapshot } from '../../../modules/database/journal/journal.types';
import { BackupCurrentDatabaseService, compareFingerprints } from '../backup-current-database';
import { DatabaseToDrop } from './rollback-state';
import { PostSplitChange } from './rollback.types';
import { ReverseSyncState } from '../online/reverse-sync-names';

/** Tables whose changes are schema history rather than business data. */
const SCHEMA_HISTORY = new Set(['public.migrations']);

export type PostSplitFindings = { changes: PostSplitChange[]; copiesOnly: string[] };

/**
 * What the new databases hold beyond the split's completion snapshot. The snapshot is taken when
 * the split completes, so its absence means one of two things:
 * - the split completed and the database came later (a société created since): everything in it
 *   was written after the split, so it is compared with nothing;
 * - the split never completed (killed mid-copy, failed verification, or no split row at all
 *   because it stopped while preparing the databases): nothing was ever cut over to them and only
 *   the tool wrote there, copies of monolith rows and the rows it derives from them and from the
 *   configuration (société, site, memberships), all of which the monolith and its backup still
 *   hold. Such a database is listed in `copiesOnly` rather than as data loss; the pre-drop dump is
 *   taken all the same.
 * A snapshot that exists is always used, even if the split's status did not reach 'complete'
 * (a crash between saving the snapshots and the status).
 */
export async function postSplitChanges(
  backups: BackupCurrentDatabaseService,
  databases: DatabaseToDrop[],
  snapshots: DatabaseSnapshot[],
  splitCompleted: boolean,
  reverse: ReverseSyncState | null = null,
): Promise<PostSplitFindings> {
  // Tables the reverse sync brings back into the monolith lose nothing: only the others count.
  const flowsBack = new Set(
    (reverse?.links ?? []).flatMap((link) =>
      link.tables.map((table) => `${link.database}|public.${table.target}`),
    ),
  );
  const changes: PostSplitChange[] = [];
  const copiesOnly: string[] = [];
  for (const database of databases) {
    const snapshot = snapshots.find((candidate) => candidate.database === database.name);
    if (!snapshot && !splitCompleted) {
      copiesOnly.push(database.name);
      continue;
    }
    const recorded = snapshot?.tables ?? {};
    const current = await backups.fingerprints(
      { database: database.name, host: database.host, port: database.port },
      { excludeSchemas: [JOURNAL_SCHEMA] },
    );
    for (const difference of compareFingerprints(recorded, current)) {
      if (SCHEMA_HISTORY.has(difference.table)) continue;
      if (flowsBack.has(`${database.name}|${difference.table}`)) continue;
      // A table created after the split but still empty holds nothing that could be lost.
      if (!difference.expected && difference.actual?.rows === 0) continue;
      changes.push({
        database: database.name,
        table: difference.table,
        rowsAtSplit: difference.expected?.rows ?? null,
        rowsNow: difference.actual?.rows ?? null,
      });
    }
  }
  return { changes, copiesOnly };
}
