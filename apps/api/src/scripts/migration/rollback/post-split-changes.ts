import { JOURNAL_SCHEMA } from '../../../modules/database/journal/journal.schema';
import { DatabaseSnapshot, TableCopyState } from '../../../modules/database/journal/journal.types';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { BackupCurrentDatabaseService, compareFingerprints } from '../backup-current-database';
import { isTypedChecksum } from '../catalogue/typed-checksum';
import { changedTargetTables } from '../split/target-changes';
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
 *   because it stopped while preparing the databases): nothing was cut over to them, so the tool
 *   should be their only writer. Each table the journal records as loaded is checked against what
 *   the tool's load recorded (its transactions' xids, or an older journal's checksum; see
 *   split/target-changes.ts): a table written since (an application pointed at AUTH
 *   too early, a DBA's fix) is data loss like any post-split write. A database where every loaded
 *   table is as the tool left it is listed in `copiesOnly`; the pre-drop dump is taken all the same.
 * A snapshot that exists is always used, even if the split's status did not reach 'complete'
 * (a crash between saving the snapshots and the status).
 */
export async function postSplitChanges(
  services: { backups: BackupCurrentDatabaseService; connections: PostgresConnectionFactory },
  databases: DatabaseToDrop[],
  journal: { snapshots: DatabaseSnapshot[]; tables: TableCopyState[] },
  splitCompleted: boolean,
  reverse: ReverseSyncState | null = null,
): Promise<PostSplitFindings> {
  const { backups } = services;
  // Tables the reverse sync brings back into the monolith lose nothing: only the others count.
  const flowsBack = new Set(
    (reverse?.links ?? []).flatMap((link) =>
      link.tables.map((table) => `${link.database}|public.${table.target}`),
    ),
  );
  const changes: PostSplitChange[] = [];
  const copiesOnly: string[] = [];
  for (const database of databases) {
    const snapshot = journal.snapshots.find((candidate) => candidate.database === database.name);
    if (!snapshot && !splitCompleted) {
      const written = await writtenSinceLoad(services.connections, database, journal.tables);
      if (written.length === 0) copiesOnly.push(database.name);
      changes.push(...written);
      continue;
    }
    const recorded = snapshot?.tables ?? {};
    // Checksummed as the snapshot was: typed since splits verify that way, text in older journals.
    const typed = Object.values(recorded).some((table) => isTypedChecksum(table.checksum));
    const current = await backups.fingerprints(
      { database: database.name, server: database.server, host: database.host, port: database.port },
      { excludeSchemas: [JOURNAL_SCHEMA], hash: typed ? 'typed' : 'text' },
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

/** Tables of an unfinished split's database that no longer hold what the tool loaded into them. */
async function writtenSinceLoad(
  connections: PostgresConnectionFactory,
  database: DatabaseToDrop,
  tables: TableCopyState[],
): Promise<PostSplitChange[]> {
  const own = tables.filter((state) => state.targetDatabase === database.name);
  const changed = await changedTargetTables(connections, own, (name) => ({
    database: name,
    server: database.server,
    host: database.host,
    port: database.port,
  }));
  return changed.map((change) => ({
    database: change.database,
    table: `public.${change.table}`,
    rowsAtSplit: change.loaded?.rows ?? null,
    rowsNow: change.found?.rows ?? null,
  }));
}
