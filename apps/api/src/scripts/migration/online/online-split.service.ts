import { Injectable } from '@nestjs/common';
import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import {
  describeHolder,
  HeldLock,
  MigrationLockService,
} from '../../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { DryRunMigrationService } from '../dry-run-migration';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { ResolvedPlan } from '../plan/plan-resolver';
import { releaseClients } from '../snapshot/exported-snapshot';
import { SplitTargets } from '../targets/split-targets';
import { VerificationReport } from '../verify/split-verifier';
import {
  dropSlot,
  slotExists,
  ONLINE_APPLICATION,
  onlineNames,
  OnlineNames,
  prepareMonolith,
} from './monolith-objects';
import { CutoverDone, CutoverReport, followAndCutOver } from './follow-and-cutover';
import { copyInSlotSnapshot, OnlineCopyResult } from './online-copy';
import { OnlineDependencies, OnlineOptions } from './online-dependencies';
import { recordOnlineSplit, removeOnlineObjects } from './online-finish';
import { OnlineJournal } from './online-journal';
import { assertOnlinePossible, readOnlinePrerequisites } from './online-prerequisites';
import { enableReverseSync } from './reverse-sync';

export type OnlineSplitReport = {
  resumed: boolean;
  copy: OnlineCopyResult | null;
  cutover: CutoverReport;
  verification: { ok: boolean; tables: number };
  tablesWithReplicaIdentityFull: string[];
  /** The new databases flowing back into the monolith, or null with --no-reverse-sync. */
  reverseSync: { databases: string[]; slots: string[] } | null;
  totalMs: number;
};

/**
 * `db:migrate -- --online`: copy in the slot's snapshot, follow the monolith's changes, cut over
 * in a pause bounded by --max-pause-ms, record the split complete. A killed run resumes from the
 * journal (following again from the slot); a failure or an interruption takes the slot and the
 * publication down, and the next run starts over with a new copy.
 */
@Injectable()
export class OnlineSplitService {
  private readonly dependencies: OnlineDependencies;

  constructor(
    configService: DatabaseConfigService,
    connections: PostgresConnectionFactory,
    admin: DatabaseAdminService,
    lock: MigrationLockService,
    schemaMigrations: SchemaMigrationService,
    journal: MigrationJournalService,
    dryRun: DryRunMigrationService,
    backups: BackupCurrentDatabaseService,
    private readonly targets: SplitTargets,
  ) {
    this.dependencies = {
      configService,
      connections,
      admin,
      lock,
      schemaMigrations,
      journal,
      dryRun,
      backups,
    };
  }

  private get monolith(): DatabaseLocation {
    return { database: this.dependencies.configService.config.monolithDatabase };
  }

  async migrate(options: OnlineOptions, run: RunContext): Promise<OnlineSplitReport> {
    const { connections, lock } = this.dependencies;
    // Before the lock and before anything is created: a server without logical decoding stops here.
    const prerequisites = await connections.withClient(
      this.monolith,
      (client) =>
        readOnlinePrerequisites(
          client,
          DEFAULT_PLAN.tables.map((table) => table.source),
        ),
      { readOnly: true, applicationName: ONLINE_APPLICATION },
    );
    assertOnlinePossible(prerequisites);
    return lock.withMigrationLock(
      'migrate',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      (held) => this.split(options, run, held, prerequisites.withoutIdentity),
    );
  }

  private async split(
    options: OnlineOptions,
    run: RunContext,
    lock: HeldLock,
    withoutIdentity: string[],
  ): Promise<OnlineSplitReport> {
    const { report, plan, locations } = await this.splitAndCutOver(options, run, lock, withoutIdentity);
    // After the try/abandon of the split: a failure here leaves the split complete, never "copying".
    const reverseSync = options.reverseSync
      ? await run.step('reverse sync', () =>
          enableReverseSync(this.dependencies, { tasks: plan.tasks, locations, run }),
        )
      : null;
    return { ...report, reverseSync };
  }

  private async splitAndCutOver(
    options: OnlineOptions,
    run: RunContext,
    lock: HeldLock,
    withoutIdentity: string[],
  ): Promise<{
    report: OnlineSplitReport;
    plan: ResolvedPlan;
    locations: Record<SchemaKind, DatabaseLocation>;
  }> {
    const started = Date.now();
    const { journal } = this.dependencies;
    const plan = await this.preflight(options, run);
    const names = onlineNames(this.monolith.database);
    const targets = this.targets;
    const prepared = await this.dependencies.connections.withClient(this.monolith, (client) =>
      run.step('prepare databases', () => targets.prepare(run, client, lock)),
    );
    const state = await journal.withJournal((repository) => new OnlineJournal(repository.client).read());
    // Following again needs the slot: without it (dropped by hand) the changes since the copy are lost, so copy again.
    const resumed =
      state !== null &&
      state.phase !== 'copying' &&
      (await this.dependencies.connections.withClient(this.monolith, (client) =>
        slotExists(client, names.slot),
      ));
    try {
      let copy: OnlineCopyResult | null = null;
      if (!resumed) {
        await this.setUp(names, plan, withoutIdentity, run);
        copy = await copyInSlotSnapshot(this.dependencies, {
          plan,
          targets,
          prepared,
          names,
          options,
          run,
          lock,
        });
        await this.onlineJournal((online) => online.update({ phase: 'following' }));
      } else run.info(`Resuming the online split: following from the slot ${names.slot}.`);
      const done = await followAndCutOver(this.dependencies, {
        names,
        plan,
        prepared,
        options,
        run,
        lock,
      });
      const verification = await this.finish(names, plan, prepared, targets, options, run, done).finally(() =>
        releaseClients([...done.frozenTargets.values()]),
      );
      const cutover: CutoverReport = { ...done.report, verifyAfterPauseMs: verification.durationMs };
      return {
        plan,
        locations: prepared.locations,
        report: {
          resumed,
          copy,
          cutover,
          verification: { ok: verification.ok, tables: verification.tables.length },
          tablesWithReplicaIdentityFull: withoutIdentity,
          reverseSync: null,
          totalMs: Date.now() - started,
        },
      };
    } catch (error) {
      // A failure or an interruption must not leave a slot retaining WAL: take it all down.
      await this.abandon(names, prepared.locations, run);
      throw error;
    }
  }

  /** The offline pre-flight, refused once the split is complete: nothing is written before it passes. */
  private async preflight(options: OnlineOptions, run: RunContext): Promise<ResolvedPlan> {
    const existing = await this.dependencies.journal.read();
    if (existing?.split?.status === 'complete')
      throw new MigrationException(
        MigrationExceptionCode.PreflightFailed,
        'the split is already complete: run npm run db:migrate (without --online) for schema migrations',
      );
    const preflight = await run.step('pre-flight', () =>
      this.dependencies.dryRun.preflight({ excludeTables: options.excludeTables, jobs: options.jobs }),
    );
    if (!preflight.report.ok || !preflight.plan) {
      const failed = preflight.report.checks.filter((check) => !check.ok);
      throw new MigrationException(
        MigrationExceptionCode.PreflightFailed,
        `pre-flight failed, nothing was written:\n${failed.map((check) => `  ❌ ${check.label}: ${check.detail}`).join('\n')}`,
        { checks: failed },
      );
    }
    return preflight.plan;
  }

  /** After the cutover: take the slot down, analyze, verify everything and record the split complete. */
  private async finish(
    names: OnlineNames,
    plan: ResolvedPlan,
    prepared: { locations: Record<SchemaKind, DatabaseLocation>; societeId: string },
    targets: SplitTargets,
    options: OnlineOptions,
    run: RunContext,
    cutover: CutoverDone,
  ): Promise<VerificationReport> {
    await run.step('remove the slot and the publication', () =>
      removeOnlineObjects(this.dependencies, names, prepared.locations),
    );
    await run.step('analyze', () => targets.analyze());
    const verification = await recordOnlineSplit(this.dependencies, {
      plan,
      locations: prepared.locations,
      societeId: prepared.societeId,
      jobs: options.jobs,
      run,
      pauseMs: cutover.report.pauseMs,
      frozenTargets: cutover.frozenTargets,
    });
    run.info(`Full verification after the pause: ${verification.durationMs} ms.`);
    if (!verification.ok)
      throw new MigrationException(
        MigrationExceptionCode.VerificationFailed,
        `verification failed after the cutover, the split is not complete: ${describeFailures(verification)}. ` +
          'Do not switch the application to the new databases; npm run db:rollback puts the monolith back in service.',
      );
    return verification;
  }

  private async setUp(
    names: OnlineNames,
    plan: ResolvedPlan,
    withoutIdentity: string[],
    run: RunContext,
  ): Promise<void> {
    const tables = plan.tasks.map((task) => task.source);
    const keyless = withoutIdentity.filter((table) => tables.includes(table));
    await this.onlineJournal(async (online) => {
      // On record before the first change on the monolith, so that every exit path can undo it.
      await online.start({ slotName: names.slot, publicationName: names.publication, runId: run.runId });
      await online.update({ replicaIdentities: keyless });
    });
    await run.step('publication, replica identities and DDL guard', () =>
      this.dependencies.connections.withClient(
        this.monolith,
        async (client) => {
          // A slot left by a run killed while copying cannot be followed from: its copy is gone.
          await dropSlot(client, names.slot);
          await prepareMonolith(client, names, tables, keyless);
        },
        { applicationName: ONLINE_APPLICATION },
      ),
    );
    if (keyless.length > 0)
      run.info(`REPLICA IDENTITY FULL set on ${keyless.join(', ')} (put back at the end).`);
  }

  private async abandon(
    names: OnlineNames,
    locations: Record<SchemaKind, DatabaseLocation>,
    run: RunContext,
  ): Promise<void> {
    try {
      await removeOnlineObjects(this.dependencies, names, locations);
      await this.onlineJournal((online) => online.update({ phase: 'copying' }));
      run.info(`The slot ${names.slot} and the publication were dropped; the next run copies again.`);
    } catch (error) {
      run.info(
        `Could not drop the slot ${names.slot}: ${error instanceof Error ? error.message : String(error)}; npm run db:rollback drops it.`,
      );
    }
  }

  private onlineJournal<T>(work: (online: OnlineJournal) => Promise<T>): Promise<T> {
    return this.dependencies.journal.withJournal((repository) => work(new OnlineJournal(repository.client)));
  }
}

/** What differs, table by table (rows on both sides), then references and schema problems. */
function describeFailures(verification: VerificationReport): string {
  return [
    ...verification.tables
      .filter((table) => !table.ok)
      .map(
        (table) =>
          `${table.source}: monolith ${table.sourceRows ?? '?'} rows, ${table.database}.${table.target} ${table.targetRows ?? '?'} rows${
            table.sourceRows === table.targetRows ? ' (content differs)' : ''
          }`,
      ),
    ...verification.references
      .filter((reference) => !reference.ok)
      .map((reference) => `${reference.reference}: ${reference.targetDangling} dangling`),
    ...verification.problems,
  ].join('; ');
}
