import { Injectable } from '@nestjs/common';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { TableFingerprint } from '../backup/backup-manifest';
import { DryRunMigrationService } from '../dry-run-migration';
import { ResolvedPlan } from '../plan/plan-resolver';
import { ExportedSnapshot } from '../snapshot/exported-snapshot';
import { CopySnapshotChecksums } from '../verify/copy-snapshot-checksums';
import { verificationReaders } from '../copy/connection-budget.service';
import { PreparedTargets, SplitTargets } from '../targets/split-targets';
import { copyStep, CopyOutcome, pendingTables } from './copy.step';
import { recordSplitOutcome, recordSplitStart, recordVerifying } from './journal.step';
import { planStep } from './plan.step';
import { assertPlanMatchesSnapshot, backupStep, fingerprintSnapshot } from './snapshot.step';
import { DeferredWork, latch, SplitRun, timer } from './split-context';
import { SplitReport, splitReport, verificationFailure } from './split-report';
import { verifyStep } from './verify.step';
import { VerificationReport } from '../verify/split-verifier';

/** What the snapshot phase hands to the copy: the backup and the prepared targets. */
type Staged = {
  backup: { path: string; reused: boolean };
  prepared: PreparedTargets;
  /** The monolith's tables as the snapshot holds them, keyed `public.<table>`. */
  content: Record<string, TableFingerprint>;
  prepareMs: number;
  backupMs: number;
  journalMs: number;
};

/** What the verification needs once every table is in. */
type CopiedTargets = { prepared: PreparedTargets; copySnapshot: CopySnapshotChecksums };

type Verified = {
  usersLinked: number;
  linkUsersMs: number;
  verification: VerificationReport;
  verifyMs: number;
};

/**
 * The split, in the order of its folders: plan → snapshot (fingerprints and backup) → targets →
 * copy → verify → journal. Every step is resumable, so a rerun after any crash continues.
 */
@Injectable()
export class SplitOrchestrator {
  constructor(
    private readonly connections: PostgresConnectionFactory,
    private readonly journal: MigrationJournalService,
    private readonly dryRun: DryRunMigrationService,
    private readonly backups: BackupCurrentDatabaseService,
    private readonly splitTargets: SplitTargets,
    private readonly configService: DatabaseConfigService,
  ) {}

  async split(split: SplitRun): Promise<SplitReport> {
    const total = timer();
    const { run, monolith } = split;
    run.info(
      split.resumed ? 'Resuming the split recorded in the journal.' : `Splitting ${monolith.database}.`,
    );
    const preflightTime = timer();
    const plan = await planStep(this.dryRun, split);
    const preflightMs = preflightTime();
    // ANALYZE only feeds the planner of the app to come: it starts once the last table is in, beside
    // the foreign keys' validation (where a core sat idle) and the verification, whose scans need no
    // statistics, instead of on the critical path. Whatever happens, it is over before this returns.
    const analysis = new DeferredWork(() => run.step('analyze', () => this.splitTargets.analyze()));
    try {
      return await this.copyAndVerify(split, plan, analysis, { total, preflightMs });
    } finally {
      await analysis.settled();
    }
  }

  private async copyAndVerify(
    split: SplitRun,
    plan: ResolvedPlan,
    analysis: DeferredWork,
    times: { total: () => number; preflightMs: number },
  ): Promise<SplitReport> {
    const { run, monolith } = split;
    // Once the last table is in, no row changes: with connections to spare, the tables are hashed
    // while the foreign keys are validated (two busy cores, instead of the keys' tail then the hashes).
    const keysRestored = latch();
    let besideKeys: Promise<Verified> | undefined;
    const onCopied = (copied: CopiedTargets) => {
      analysis.start();
      if (!split.options.verifyBesideKeys) return;
      besideKeys = this.linkAndVerify(split, plan, copied, keysRestored.promise);
      // Awaited below or on the error path; this only keeps an early failure from going unhandled.
      besideKeys.catch(() => undefined);
    };
    let staged: Staged, copy: CopyOutcome, verified: Verified;
    let journalMs: number;
    try {
      const copied = await this.inSnapshot(split, plan, this.splitTargets, onCopied);
      keysRestored.resolve();
      ({ staged, copy } = copied);
      const journalTime = timer();
      await recordVerifying(this.journal, monolith.database, run);
      journalMs = staged.journalMs + journalTime();
      verified = await (besideKeys ??
        this.linkAndVerify(split, plan, { prepared: staged.prepared, copySnapshot: copied.copySnapshot }));
    } catch (error) {
      keysRestored.reject(error);
      // Read-only, but its sessions are closed before the error goes on.
      await besideKeys?.catch(() => undefined);
      throw error;
    }
    const { prepared } = staged;
    const { usersLinked, linkUsersMs, verification, verifyMs } = verified;
    const analyzeMs = await analysis.finished();
    split.lock.assertHeld();
    const outcomeTime = timer();
    await recordSplitOutcome(this.journal, {
      monolith: monolith.database,
      verification,
      tasks: plan.tasks,
      locations: prepared.locations,
      run,
    });
    journalMs += outcomeTime();

    const report = splitReport({
      resumed: split.resumed,
      backup: staged.backup,
      prepared,
      tasks: plan.tasks,
      excluded: plan.excluded,
      copied: copy.copied,
      usersLinked,
      constraintsRestored: copy.constraintsRestored,
      discardedTargetChanges: copy.discarded,
      verification,
      timings: {
        preflightMs: times.preflightMs,
        prepareMs: staged.prepareMs,
        backupMs: staged.backupMs,
        copyMs: copy.copyMs,
        indexMs: copy.copied.reduce((sum, table) => sum + table.indexMs, 0),
        constraintsMs: copy.constraintsMs,
        linkUsersMs,
        analyzeMs,
        verifyMs,
        journalMs,
        totalMs: times.total(),
      },
    });
    if (!verification.ok) throw verificationFailure(report);
    return report;
  }

  /**
   * Every migrated user linked to the default société, then the verification: linked first, so
   * that the targets' fingerprints the journal keeps include the links.
   */
  private async linkAndVerify(
    split: SplitRun,
    plan: ResolvedPlan,
    copied: CopiedTargets,
    keysRestored?: Promise<void>,
  ): Promise<Verified> {
    const linkUsersTime = timer();
    const usersLinked = await split.run.step('link users to the default société', () =>
      this.splitTargets.linkUsers(copied.prepared.societeId),
    );
    const linkUsersMs = linkUsersTime();
    const verifyTime = timer();
    const verification = await verifyStep(this.connections, split, plan, {
      ...copied.prepared,
      copySnapshot: copied.copySnapshot,
      keysRestored,
    });
    return { usersLinked, linkUsersMs, verification, verifyMs: verifyTime() };
  }

  /**
   * One snapshot for everything read from the monolith in this run: fingerprints, backup, copy, and
   * the verification's source checksums, taken beside the copy (verify/copy-snapshot-checksums.ts).
   */
  private async inSnapshot(
    split: SplitRun,
    plan: ResolvedPlan,
    targets: SplitTargets,
    onCopied: (copied: CopiedTargets) => void,
  ): Promise<{ staged: Staged; copy: CopyOutcome; copySnapshot: CopySnapshotChecksums }> {
    const snapshot = await ExportedSnapshot.open(this.connections, split.monolith, {
      applicationName: 'topsteel-migrate',
    });
    let started: Promise<CopySnapshotChecksums> | undefined;
    try {
      const staged = await this.snapshotAndTargets(split, plan, snapshot, targets, (prepared) => {
        // They hash the copy's projection, which holds the société's id: they start as soon as the
        // targets' preparation has it, beside the rest of the fingerprints and the backup match.
        started = this.sourceChecksums(split, plan, snapshot, prepared.societeId);
        started.catch(() => undefined);
      });
      const copySnapshot = await (started ??= this.sourceChecksums(
        split,
        plan,
        snapshot,
        staged.prepared.societeId,
      ));
      const copy = await this.copy(split, plan, snapshot, staged, () =>
        onCopied({ prepared: staged.prepared, copySnapshot }),
      );
      return { staged, copy, copySnapshot };
    } catch (error) {
      await started?.then((checksums) => checksums.abandon()).catch(() => undefined);
      throw error;
    } finally {
      await snapshot.close();
    }
  }

  /** The verification's source side, read in the copy's snapshot by sessions of its own while the copy runs. */
  private sourceChecksums(
    split: SplitRun,
    plan: ResolvedPlan,
    snapshot: ExportedSnapshot,
    societeId: string,
  ): Promise<CopySnapshotChecksums> {
    return CopySnapshotChecksums.start(snapshot, plan.tasks, {
      societeId,
      sessions: verificationReaders(split.options.jobs),
      onFailure: (error) =>
        split.run.log('source checksums beside the copy failed; the verification reads every table', {
          error: error instanceof Error ? error.message : String(error),
        }),
    });
  }

  /** The snapshot's fingerprints while the targets are prepared, then the backup, then the journal says "in progress". */
  private async snapshotAndTargets(
    split: SplitRun,
    plan: ResolvedPlan,
    snapshot: ExportedSnapshot,
    targets: SplitTargets,
    onPrepared: (prepared: PreparedTargets) => void,
  ): Promise<Staged> {
    const { run, lock, monolith } = split;
    const prepareTime = timer();
    const sourceTables = await assertPlanMatchesSnapshot(plan, snapshot);
    // Both settle before anything fails: nothing started here goes on unobserved.
    const [fingerprinted, preparing] = await Promise.allSettled([
      fingerprintSnapshot(snapshot, sourceTables, { jobs: split.options.jobs, backups: this.backups }),
      run
        .step('prepare databases', () => targets.prepare(run, snapshot.client, lock))
        .then((prepared) => {
          onPrepared(prepared);
          return prepared;
        }),
    ]);
    if (preparing.status === 'rejected') throw preparing.reason;
    if (fingerprinted.status === 'rejected') throw fingerprinted.reason;
    const [content, prepared] = [fingerprinted.value, preparing.value];
    const prepareMs = prepareTime();
    const backupTime = timer();
    const backup = await backupStep(this.backups, monolith, snapshot, content, run);
    const backupMs = backupTime();
    const journalTime = timer();
    await recordSplitStart(this.journal, {
      monolith: monolith.database,
      run,
      backupPath: backup.path,
      societeId: prepared.societeId,
      plan,
    });
    return {
      backup,
      prepared,
      content: content.content.tables,
      prepareMs,
      backupMs,
      journalMs: journalTime(),
    };
  }

  private async copy(
    split: SplitRun,
    plan: ResolvedPlan,
    snapshot: ExportedSnapshot,
    staged: Staged,
    onCopied: () => void,
  ): Promise<CopyOutcome> {
    const { run } = split;
    const { prepared } = staged;
    const { pending, discarded } = await run.step('plan the copy', () =>
      pendingTables(this.connections, this.journal, split, {
        tasks: plan.tasks,
        locations: prepared.locations,
        source: staged.content,
      }),
    );
    if (pending.length < plan.tasks.length)
      run.info(
        `${plan.tasks.length - pending.length} table(s) already copied and unchanged; ${pending.length} to copy.`,
      );
    const copied = await copyStep(this.connections, this.journal, split, {
      snapshot,
      pending,
      societeId: prepared.societeId,
      locations: prepared.locations,
      splitTables: this.configService.config.splitTables,
      onCopied,
    });
    return { ...copied, discarded };
  }
}
