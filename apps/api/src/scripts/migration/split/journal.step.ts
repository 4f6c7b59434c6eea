import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { targetColumnNames } from '../copy/table-copier';
import { CopyTask, ResolvedPlan } from '../plan/plan-resolver';
import { VerificationReport } from '../verify/split-verifier';

/** Before the copy: the split is in progress, from this backup, for this société, leaving out these tables. */
export async function recordSplitStart(
  journal: MigrationJournalService,
  start: { monolith: string; run: RunContext; backupPath: string; societeId: string; plan: ResolvedPlan },
): Promise<void> {
  await journal.withJournal((repository) =>
    repository.saveSplit({
      status: 'in_progress',
      sourceDatabase: start.monolith,
      runId: start.run.runId,
      backupPath: start.backupPath,
      societeId: start.societeId,
      excludedTables: start.plan.excluded
        .filter((exclusion) => exclusion.by === 'operator')
        .map((exclusion) => exclusion.source),
    }),
  );
}

export async function recordVerifying(
  journal: MigrationJournalService,
  monolith: string,
  run: RunContext,
): Promise<void> {
  await journal.withJournal((repository) =>
    repository.saveSplit({ status: 'verifying', sourceDatabase: monolith, runId: run.runId }),
  );
}

/** The last step: per-table results, the new databases' content, and the split's status. */
export async function recordSplitOutcome(
  journal: MigrationJournalService,
  outcome: {
    monolith: string;
    verification: VerificationReport;
    tasks: CopyTask[];
    locations: Record<SchemaKind, DatabaseLocation>;
    run: RunContext;
    /** More to record in the same journal transaction once the split is complete (the online split's phase). */
    onComplete?: (repository: JournalRepository) => Promise<void>;
    /** Extra details of the run's end line. */
    runDetails?: Record<string, unknown>;
  },
): Promise<void> {
  await journal.withJournal(async (repository) => {
    // One transaction: one commit (and WAL flush) instead of one per table, and the outcome is on
    // record whole or not at all (a rerun then verifies again).
    await repository.client.query('BEGIN');
    try {
      await recordOutcomeIn(repository, outcome);
      await repository.client.query('COMMIT');
    } catch (error) {
      await repository.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

async function recordOutcomeIn(
  repository: JournalRepository,
  outcome: Parameters<typeof recordSplitOutcome>[1],
): Promise<void> {
  const { monolith, verification, tasks, locations, run } = outcome;
  for (const table of verification.tables) {
    const task = tasks.find(
      (candidate) => candidate.database === table.database && candidate.target === table.target,
    );
    await repository.setTableState(
      {
        sourceTable: table.source,
        targetDatabase: locations[table.database].database,
        targetTable: table.target,
        status: table.ok ? 'verified' : 'failed',
        rows: table.targetRows,
        checksum: table.targetChecksum,
        checksumColumns: task ? targetColumnNames(task) : null,
      },
      run.runId,
    );
  }
  if (!verification.ok) {
    await repository.saveSplit({
      status: 'failed',
      sourceDatabase: monolith,
      runId: run.runId,
      failure: {
        tables: verification.tables.filter((table) => !table.ok).map((table) => table.source),
        references: verification.references.filter((reference) => !reference.ok),
      },
    });
    return;
  }
  for (const snapshot of verification.snapshots) await repository.saveSnapshot(snapshot);
  await repository.saveReferenceBaselines(
    new Map(verification.references.map((reference) => [reference.reference, reference.sourceDangling ?? 0])),
  );
  await repository.saveSplit({ status: 'complete', sourceDatabase: monolith, runId: run.runId });
  await outcome.onComplete?.(repository);
  await repository.finishRun(run.runId, 'complete', 0, { tables: tasks.length, ...outcome.runDetails });
}
