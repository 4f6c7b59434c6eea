import { SchemaKind } from '../../../database/migrations/migration-sets';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { compareFingerprints } from '../backup-current-database';
import { TableFingerprint } from '../backup/backup-manifest';
import { checksumSql } from '../catalogue/catalogue';
import { CopiedTable, CopyEngine } from '../copy/copy-engine';
import { CopyTask } from '../plan/plan-resolver';
import { ExportedSnapshot } from '../snapshot/exported-snapshot';
import { SplitRun, timer } from './split-context';

export type CopyOutcome = {
  discarded?: { tables: string[]; folder: string };
  copied: CopiedTable[];
  constraintsRestored: number;
  copyMs: number;
  constraintsMs: number;
};

/**
 * Tables not yet copied, plus those a previous run copied whose target no longer matches the
 * source in this run's snapshot (the monolith changed since, or the copy was lost).
 */
export async function tablesToCopy(
  connections: PostgresConnectionFactory,
  journal: MigrationJournalService,
  tasks: CopyTask[],
  locations: Record<SchemaKind, DatabaseLocation>,
  fingerprints: Record<string, TableFingerprint>,
): Promise<CopyTask[]> {
  const contents = await journal.read();
  const done = new Map(
    (contents?.tables ?? [])
      .filter((state) => state.status === 'copied' || state.status === 'verified')
      .map((state) => [`${state.targetDatabase}.${state.targetTable}`, state]),
  );
  const pending: CopyTask[] = [];
  for (const task of tasks) {
    const state = done.get(`${locations[task.database].database}.${task.target}`);
    const source = fingerprints[`public.${task.source}`];
    if (!state || !source) {
      pending.push(task);
      continue;
    }
    const target = await connections.withClient(locations[task.database], async (client) => {
      await client.query(DETERMINISTIC_SESSION_SETTINGS);
      const result = await client.query<{ rows: string; checksum: string }>(
        checksumSql({ schema: 'public', name: task.target }, [task.columns.map((column) => column.name)]),
      );
      return { rows: Number(result.rows[0].rows), checksum: result.rows[0].checksum };
    });
    if (compareFingerprints({ t: source }, { t: target }).length > 0) pending.push(task);
  }
  return pending;
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
    });
    const copyTime = timer();
    const copied = await run.step('copy', () => engine.copy(copy.pending));
    const copyMs = copyTime();
    const constraintsTime = timer();
    const constraintsRestored = await run.step('restore foreign keys', () =>
      engine.restoreConstraints(['auth', 'shared', 'tenant']),
    );
    return { copied, constraintsRestored, copyMs, constraintsMs: constraintsTime() };
  });
}
