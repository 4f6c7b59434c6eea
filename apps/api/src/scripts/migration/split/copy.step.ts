import { SplitTablesPolicy } from '../../../database/config/multi-tenant-database.config';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { TableFingerprint } from '../backup/backup-manifest';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { CopiedTable, CopyEngine } from '../copy/copy-engine';
import { CopyTask } from '../plan/plan-resolver';
import { ExportedSnapshot } from '../snapshot/exported-snapshot';
import { SplitRun, timer } from './split-context';
import { classifyTargets, dumpTargetTables, TargetChange } from './target-changes';

export type CopyOutcome = {
  discarded?: { tables: string[]; folder: string };
  copied: CopiedTable[];
  constraintsRestored: number;
  copyMs: number;
  constraintsMs: number;
};

/**
 * Which tables to copy in this run. A rerun never overwrites silently what someone wrote into a
 * target after the tool loaded it: it stops naming those tables, or with --discard-target-changes
 * dumps them into BACKUP_DIR first and says where.
 */
export async function pendingTables(
  connections: PostgresConnectionFactory,
  journal: MigrationJournalService,
  split: SplitRun,
  plan: {
    tasks: CopyTask[];
    locations: Record<SchemaKind, DatabaseLocation>;
    source: Record<string, TableFingerprint>;
  },
): Promise<{ pending: CopyTask[]; discarded?: { tables: string[]; folder: string } }> {
  // The two journal reads the plan needs, on one session (AUTH exists: the split created it).
  const { states, rangeLoads } = await journal.withJournal(async (repository) => ({
    states: await repository.tableStates(),
    rangeLoads: await repository.rangeLoads(),
  }));
  const { pending, changed } = await classifyTargets(connections, {
    ...plan,
    states,
    rangeLoads: new Set(rangeLoads.map((load) => `${load.targetDatabase}.${load.targetTable}`)),
    jobs: split.options.jobs,
  });
  if (changed.length === 0) return { pending };
  const names = changed.map((change) => `${change.database}.${change.table}`);
  const described = changed.map(describeChange).join('\n');
  if (!split.options.discardTargetChanges) {
    throw new MigrationException(
      MigrationExceptionCode.TargetChanged,
      `${changed.length} target table(s) changed since the tool loaded them; refusing to overwrite them:\n${described}`,
      { tables: names },
    );
  }
  const dump = await dumpTargetTables(connections, changed, split.backupDir);
  split.run.info(
    `--discard-target-changes: dumped ${names.join(', ')} into ${dump.folder} before recopying them.`,
  );
  split.run.log('discard target changes', { tables: names, folder: dump.folder });
  return { pending, discarded: { tables: names, folder: dump.folder } };
}

/**
 * One line per changed table. A load proven by its transactions has no checksum to show: the rows
 * that another transaction wrote (inserted or updated) say what changed, when the count does not.
 */
function describeChange(change: TargetChange): string {
  const found = change.found ? `${change.found.rows} rows now` : 'dropped';
  const foreign = change.found?.foreignRows ? ` (${change.found.foreignRows} written since)` : '';
  const loaded = change.loaded
    ? `${change.loaded.rows ?? '?'} rows when loaded`
    : 'never fully loaded by the tool';
  return `  ${change.database}.${change.table}: ${found}${foreign}, ${loaded}`;
}

/** Step 4: the copy in the snapshot (`--jobs` workers), then the foreign keys set aside while loading. */
export async function copyStep(
  connections: PostgresConnectionFactory,
  journal: MigrationJournalService,
  split: SplitRun,
  copy: {
    snapshot: ExportedSnapshot;
    pending: CopyTask[];
    societeId: string;
    locations: Record<SchemaKind, DatabaseLocation>;
    splitTables: SplitTablesPolicy;
    /** Called once every table is in, before the foreign keys are restored. */
    onCopied?: () => void;
  },
): Promise<CopyOutcome> {
  const { run, lock, options } = split;
  return journal.withJournal(async (repository) => {
    const engine = new CopyEngine(connections, {
      snapshot: copy.snapshot,
      jobs: options.jobs,
      societeId: copy.societeId,
      locations: copy.locations,
      journal: repository,
      run,
      lock,
      splitTables: copy.splitTables,
    });
    const copyTime = timer();
    const copied = await run.step('copy', () => engine.copy(copy.pending));
    const copyMs = copyTime();
    copy.onCopied?.();
    const constraintsTime = timer();
    const constraintsRestored = await run.step('restore foreign keys', () =>
      engine.restoreConstraints(['auth', 'shared', 'tenant']),
    );
    return { copied, constraintsRestored, copyMs, constraintsMs: constraintsTime() };
  });
}
