import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { CopyEngine } from '../copy/copy-engine';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { ResolvedPlan } from '../plan/plan-resolver';
import { ExportedSnapshot } from '../snapshot/exported-snapshot';
import { recordSplitStart } from '../split/journal.step';
import { assertPlanMatchesSnapshot, backupStep, fingerprintSnapshot } from '../split/snapshot.step';
import { SplitTargets } from '../targets/split-targets';
import { verifySplit } from '../verify/split-verifier';
import { createSlot, OnlineNames } from './monolith-objects';
import { OnlineDependencies, OnlineOptions } from './online-dependencies';
import { OnlineJournal } from './online-journal';

export type OnlineCopyResult = {
  consistentLsn: string;
  backup: { path: string; reused: boolean };
  tables: number;
  rows: number;
  copyMs: number;
};

/**
 * The copy phase: the slot is created first and its exported snapshot adopted by a session we hold,
 * so the backup, the parallel COPY and the copy's verification all read exactly the data the slot
 * will stream changes after. The targets are prepared as for the offline split.
 */
export async function copyInSlotSnapshot(
  dependencies: OnlineDependencies,
  context: {
    plan: ResolvedPlan;
    targets: SplitTargets;
    prepared: { locations: Record<SchemaKind, DatabaseLocation>; societeId: string };
    names: OnlineNames;
    options: OnlineOptions;
    run: RunContext;
    lock: HeldLock;
  },
): Promise<OnlineCopyResult> {
  const { connections, configService, journal, backups } = dependencies;
  const { plan, prepared, names, run } = context;
  const monolith = { database: configService.config.monolithDatabase };
  const slot = await run.step('create the replication slot', () =>
    createSlot(connections.clientConfig(monolith, { applicationName: 'topsteel-online-slot' }), names.slot),
  );
  let snapshot: ExportedSnapshot;
  try {
    snapshot = await ExportedSnapshot.open(connections, monolith, {
      applicationName: 'topsteel-online-copy',
      importSnapshot: slot.snapshotName,
    });
  } finally {
    // Imported: the snapshot now lives in our session; the replication connection is no longer needed.
    await slot.connection.end().catch(() => undefined);
  }
  await journal.withJournal((repository) =>
    new OnlineJournal(repository.client).update({ consistentLsn: slot.consistentPoint }),
  );
  try {
    // The same steps as the offline split's snapshot phase, in the slot's snapshot.
    const content = await fingerprintSnapshot(snapshot, await assertPlanMatchesSnapshot(plan, snapshot), {
      jobs: context.options.jobs,
      backups,
    });
    const backup = await backupStep(backups, monolith, snapshot, content, run);
    await recordSplitStart(journal, {
      monolith: monolith.database,
      run,
      backupPath: backup.path,
      societeId: prepared.societeId,
      plan,
    });
    const started = Date.now();
    const copied = await copyAll(dependencies, context, snapshot);
    const copyMs = Date.now() - started;
    await run.step('link users to the default société', () => context.targets.linkUsers(prepared.societeId));
    await verifyInSnapshot(dependencies, context, snapshot);
    return {
      consistentLsn: slot.consistentPoint,
      backup,
      tables: copied.length,
      rows: copied.reduce((sum, table) => sum + table.rows, 0),
      copyMs,
    };
  } finally {
    await snapshot.close();
  }
}

type CopyContext = Parameters<typeof copyInSlotSnapshot>[1];

/** Every table is copied again: a copy from an earlier slot's snapshot cannot be followed from this one. */
async function copyAll(dependencies: OnlineDependencies, context: CopyContext, snapshot: ExportedSnapshot) {
  const { connections, journal, configService } = dependencies;
  const { plan, prepared, options, run, lock } = context;
  return journal.withJournal(async (repository) => {
    const engine = new CopyEngine(connections, {
      snapshot,
      jobs: options.jobs,
      societeId: prepared.societeId,
      locations: prepared.locations,
      journal: repository,
      run,
      lock,
      splitTables: configService.config.splitTables,
    });
    const tables = await run.step('copy', () => engine.copy(plan.tasks));
    await run.step('restore foreign keys', () => engine.restoreConstraints(['auth', 'shared', 'tenant']));
    return tables;
  });
}

/** The copy checked against the slot's own snapshot before any change is applied. */
async function verifyInSnapshot(
  dependencies: OnlineDependencies,
  context: CopyContext,
  snapshot: ExportedSnapshot,
): Promise<void> {
  const { plan, prepared, options, run } = context;
  const verification = await run.step('verify the copy in the slot snapshot', () =>
    verifySplit(dependencies.connections, {
      tasks: plan.tasks,
      cutReferences: plan.cutReferences,
      locations: prepared.locations,
      sourceSnapshot: snapshot,
      plan,
      societeId: prepared.societeId,
      jobs: options.jobs,
      progress: run.progress,
    }),
  );
  if (!verification.ok) {
    const tables = verification.tables.filter((table) => !table.ok).map((table) => table.source);
    throw new MigrationException(
      MigrationExceptionCode.VerificationFailed,
      `the copy does not match the slot's snapshot: ${[...verification.problems, ...tables].join(', ')}`,
      { tables, problems: verification.problems },
    );
  }
}
