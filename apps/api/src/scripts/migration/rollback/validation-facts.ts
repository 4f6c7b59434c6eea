import { SplitStatus } from '../../../modules/database/journal/journal.types';
import { JournalContents } from '../../../modules/database/journal/migration-journal.service';
import { BackupDatabaseEntry, BackupManifest } from '../backup/backup-manifest';
import { compareFingerprints, FingerprintDifference } from '../backup-current-database';
import { compareSchemas, SchemaDifference } from '../snapshot/schema-fingerprint';
import { postSplitChanges, PostSplitFindings } from './post-split-changes';
import { RollbackDependencies } from './rollback-dependencies';
import { DatabaseToDrop, RollbackState } from './rollback-state';
import { MonolithComparison, RollbackOptions } from './rollback.types';
import { readServerFacts, ServerFacts } from './server-facts';
import { ReverseSyncState } from '../online/reverse-sync-names';
import { readReverseStatus, ReverseLinkStatus } from '../online/reverse-status';
import { readReverseSync } from './reverse-drain';

/** Everything `rollback --validate` looks at, read once; the checks only judge it. */
export type ValidationFacts = {
  dependencies: RollbackDependencies;
  options: RollbackOptions;
  inProgress: RollbackState | null;
  journal: JournalContents | null;
  splitStatus: SplitStatus | 'none';
  /** Without a split there is nothing to undo in the monolith: it is the live database. */
  splitRecorded: boolean;
  noSplitReason: string;
  backup: { name: string; path: string } | null;
  manifest: BackupManifest | null;
  monolithEntry: BackupDatabaseEntry | null;
  drop: DatabaseToDrop[];
  /** Recorded in the journal but no longer carrying the tool's marker: never dropped. */
  unmarked: string[];
  untouched: string[];
  /** Databases to drop that refuse connections (ALLOW_CONNECTIONS false). */
  closed: string[];
  monolithExists: boolean;
  /** The monolith refuses connections (ALLOW_CONNECTIONS false): it cannot be compared. */
  monolithClosed: boolean;
  differences: FingerprintDifference[];
  schemaDifferences: SchemaDifference[];
  schemaCompared: boolean;
  comparison: MonolithComparison;
  restoreNeeded: boolean;
  postSplit: PostSplitFindings;
  server: ServerFacts;
  /** The reverse sync after an online split: what flows back into the monolith, and how far behind. */
  reverse: ReverseSyncState | null;
  reverseStatus: ReverseLinkStatus[];
};

export async function readValidationFacts(
  dependencies: RollbackDependencies,
  options: RollbackOptions,
): Promise<ValidationFacts> {
  const config = dependencies.config;
  const inProgress = dependencies.stateFile.read();
  const journal = inProgress ? null : await dependencies.journal.read();
  // A rollback in progress recorded the split's status before AUTH (and its journal) went away.
  const splitStatus = inProgress ? inProgress.splitStatus : (journal?.split?.status ?? 'none');
  const splitRecorded = inProgress !== null || splitStatus !== 'none';
  const backup = inProgress
    ? inProgress.backup
    : splitRecorded
      ? chooseBackup(dependencies, options.backupName, journal?.split?.backupPath ?? null)
      : null;
  const manifest = backup ? dependencies.catalog.readManifest(backup.path) : null;
  const monolithEntry =
    manifest?.databases.find(
      (entry) => entry.role === 'monolith' && entry.database === config.monolithDatabase,
    ) ?? null;
  const plan = await dropPlan(dependencies, inProgress, journal);
  const closed = await closedDatabases(dependencies, plan.drop);
  const monolith = await compareMonolith(dependencies, splitRecorded, monolithEntry);
  const reverse = await readReverseSync(dependencies);
  // With reverse sync the monolith differs from its backup by design: it is brought level, not restored.
  const restoreNeeded = reverse
    ? false
    : inProgress
      ? inProgress.restore.needed && !inProgress.restore.swapped
      : splitRecorded && (!monolith.monolithExists || monolith.differs);
  // Checked again when resuming: the application may have written while the rollback was stopped.
  const postSplit = await postSplitChanges(
    dependencies,
    plan.drop.filter((database) => !closed.includes(database.name)),
    {
      snapshots: inProgress ? inProgress.snapshots : (journal?.snapshots ?? []),
      tables: journal?.tables ?? [],
    },
    splitStatus === 'complete',
    reverse,
  );
  return {
    dependencies,
    options,
    inProgress,
    journal,
    splitStatus,
    splitRecorded,
    noSplitReason: `no split is recorded in the journal (${journal ? `${config.authDatabase} has no split row` : `${config.authDatabase} or its journal does not exist`})`,
    backup,
    manifest,
    monolithEntry,
    ...plan,
    closed,
    ...monolith,
    restoreNeeded,
    postSplit,
    server: await readServerFacts(dependencies, plan.drop),
    reverse,
    reverseStatus: reverse
      ? await readReverseStatus(dependencies.connections, config.monolithDatabase, reverse)
      : [],
  };
}

/**
 * The backup to restore from: an explicit --backup or the split's own, never "the newest": a later
 * backup (clean --execute takes one) may postdate writes that a restore from it would throw away.
 */
function chooseBackup(
  dependencies: RollbackDependencies,
  name: string | undefined,
  journalPath: string | null,
): { name: string; path: string } | null {
  const monolith = dependencies.config.monolithDatabase;
  const backups = dependencies.catalog
    .list('pre-migration')
    .filter((backup) =>
      backup.manifest.databases.some((entry) => entry.role === 'monolith' && entry.database === monolith),
    );
  const chosen = name
    ? backups.find((backup) => backup.name === name)
    : journalPath
      ? backups.find((backup) => backup.path === journalPath)
      : undefined;
  if (chosen) return { name: chosen.name, path: chosen.path };
  // The journal names a backup the catalogue cannot read: report it as it is rather than pick another.
  return journalPath && !name
    ? { name: journalPath.split('/').pop() ?? journalPath, path: journalPath }
    : null;
}

/** What would be dropped: only databases the journal records as created by the tool, still marked as ours. */
async function dropPlan(
  dependencies: RollbackDependencies,
  inProgress: RollbackState | null,
  journal: JournalContents | null,
): Promise<{ drop: DatabaseToDrop[]; unmarked: string[]; untouched: string[] }> {
  const recorded: DatabaseToDrop[] = inProgress
    ? inProgress.drop.filter((database) => !inProgress.dropped.includes(database.name))
    : (journal?.databases ?? []).map(({ name, kind, server, host, port }) => ({
        name,
        kind,
        server: server ?? null,
        host,
        port,
      }));
  const drop: DatabaseToDrop[] = [];
  const unmarked: string[] = [];
  for (const database of recorded) {
    const location = {
      database: database.name,
      server: database.server,
      host: database.host,
      port: database.port,
    };
    if (!(await dependencies.admin.exists(location))) continue;
    if (await dependencies.admin.isOwnedByTool(location)) drop.push(database);
    else unmarked.push(database.name);
  }
  const untouched = (await dependencies.admin.list({}))
    .map((info) => info.name)
    .filter(
      (name) => isConfiguredName(dependencies, name) && !drop.some((database) => database.name === name),
    );
  return { drop, unmarked, untouched };
}

/** The database names this configuration governs: AUTH, SHARED and the tenants' prefix. */
export function isConfiguredName(dependencies: RollbackDependencies, name: string): boolean {
  const config = dependencies.config;
  return (
    name.startsWith(`${config.tenantPrefix}_`) ||
    name === config.authDatabase ||
    name === config.sharedDatabase
  );
}

async function closedDatabases(
  dependencies: RollbackDependencies,
  drop: DatabaseToDrop[],
): Promise<string[]> {
  const closed: string[] = [];
  for (const database of drop) {
    const [info] = await dependencies.admin.list(
      { server: database.server, host: database.host, port: database.port },
      [database.name],
    );
    if (info && !info.acceptsConnections) closed.push(database.name);
  }
  return closed;
}

async function compareMonolith(
  dependencies: RollbackDependencies,
  splitRecorded: boolean,
  entry: BackupDatabaseEntry | null,
): Promise<{
  monolithExists: boolean;
  monolithClosed: boolean;
  differs: boolean;
  differences: FingerprintDifference[];
  schemaDifferences: SchemaDifference[];
  schemaCompared: boolean;
  comparison: MonolithComparison;
}> {
  const monolith = { database: dependencies.config.monolithDatabase };
  const [info] = await dependencies.admin.list({}, [monolith.database]);
  const monolithExists = info !== undefined;
  // An interrupted swap leaves it closed: nobody, not even us, can read it until a rerun reopens it.
  const monolithClosed = monolithExists && !info.acceptsConnections;
  let differences: FingerprintDifference[] = [];
  let schemaDifferences: SchemaDifference[] = [];
  let comparison: MonolithComparison = null;
  // Proven unchanged since the backup (one scan, no checksum), or compared in full.
  if (splitRecorded && monolithExists && !monolithClosed && entry) {
    comparison = (await dependencies.backups.provenUnchangedSince(monolith, entry))
      ? 'no-write-since-dump'
      : 'checksums';
  }
  if (comparison === 'checksums' && entry) {
    const current = await dependencies.backups.describe(monolith);
    differences = compareFingerprints(entry.tables, current.tables);
    // Rows alone miss a dropped foreign key, a changed default or a sequence set back.
    if (entry.schema) schemaDifferences = compareSchemas(entry.schema, current.schema);
  }
  return {
    monolithExists,
    monolithClosed,
    differs: differences.length > 0 || schemaDifferences.length > 0,
    differences,
    schemaDifferences,
    schemaCompared: Boolean(entry?.schema),
    comparison,
  };
}
