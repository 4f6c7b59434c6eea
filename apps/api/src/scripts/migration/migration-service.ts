import { Injectable } from '@nestjs/common';
import { cpus } from 'node:os';
import { RunContext } from '../../common/run/run-context';
import { SchemaKind } from '../../database/migrations/migration-sets';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import {
  describeHolder,
  HeldLock,
  MigrationLockService,
} from '../../modules/database/migration-lock.service';
import {
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../modules/database/schema-migration.service';
import { SocieteProvisioningService } from '../../modules/societes/societe-provisioning.service';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import { BackupCurrentDatabaseService, compareFingerprints } from './backup-current-database';
import { checksumSql } from './catalogue/catalogue';
import { CopiedTable, CopyEngine } from './copy/copy-engine';
import { targetColumnNames } from './copy/table-copier';
import { DryRunMigrationService, DryRunReport } from './dry-run-migration';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { MigrationException, MigrationExceptionCode } from './migration.exception';
import { CopyTask, planDrift, ResolvedExclusion } from './plan/plan-resolver';
import { RollbackException, RollbackExceptionCode } from './rollback/rollback.exception';
import { RollbackStateFile } from './rollback/rollback-state';
import { SchemaFanOut, SchemaFanOutReport } from './fan-out/schema-fan-out';
import { SplitTargets } from './targets/split-targets';
import { ExportedSnapshot, releaseClients } from './snapshot/exported-snapshot';
import { computeSchemaFingerprint } from './snapshot/schema-fingerprint';
import { computeFingerprints, fingerprintTargets } from './snapshot/table-fingerprints';
import { taskKey, VerificationReport, verifySplit } from './verify/split-verifier';

export type MigrateOptions = {
  excludeTables?: string[];
  /** Parallel tables / databases; by default from the CPU count and the server's free connections. */
  jobs?: number;
  lockTimeoutMs: number;
  tenants?: string[];
  dryRun?: boolean;
};

export type SplitReport = {
  resumed: boolean;
  backup: { path: string; reused: boolean };
  databases: { name: string; kind: SchemaKind; created: boolean }[];
  societeId: string;
  tables: {
    source: string;
    target: string;
    database: SchemaKind;
    rows: number;
    copied: boolean;
    durationMs: number | null;
  }[];
  excluded: ResolvedExclusion[];
  usersLinked: number;
  constraintsRestored: number;
  verification: Omit<VerificationReport, 'snapshots'>;
  timings: {
    preflightMs: number;
    prepareMs: number;
    backupMs: number;
    copyMs: number;
    constraintsMs: number;
    verifyMs: number;
    totalMs: number;
  };
};

export type MigrateReport =
  | { mode: 'split'; split: SplitReport }
  | { mode: 'preflight'; preflight: DryRunReport }
  | { mode: 'schema-migrations'; migrations: SchemaFanOutReport };

/**
 * `db:migrate`. Under the migration lock: the first run splits the monolith (pre-flight, backup,
 * targets, copy, verification, journal), resuming whatever an interrupted run left; once the split
 * is complete, every run applies the pending schema migrations of AUTH, SHARED and every tenant.
 */
@Injectable()
export class MigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly lock: MigrationLockService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly dryRun: DryRunMigrationService,
    private readonly backups: BackupCurrentDatabaseService,
    private readonly societes: SocieteRegistryService,
    private readonly provisioning: SocieteProvisioningService,
  ) {}

  async migrate(requested: MigrateOptions, run: RunContext): Promise<MigrateReport> {
    const options = { ...requested, jobs: requested.jobs ?? (await this.defaultJobs()) };
    return this.lock.withMigrationLock(
      'migrate',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      async (lock) => {
        // A rollback stopped halfway must be finished before anything is migrated again.
        const rollback = new RollbackStateFile(this.configService.config);
        if (rollback.read()) {
          throw new RollbackException(
            RollbackExceptionCode.InProgress,
            `a rollback is in progress (${rollback.path})`,
          );
        }
        const journal = await this.journal.read();
        if (journal?.split?.status === 'complete') {
          const fanOut = new SchemaFanOut(this.configService, this.schemaMigrations, this.societes);
          return { mode: 'schema-migrations', migrations: await fanOut.run(options, run) };
        }
        const monolith = { database: this.configService.config.monolithDatabase };
        if (!(await this.admin.exists(monolith))) {
          throw new MigrationException(
            MigrationExceptionCode.NoSource,
            journal?.split
              ? `the split of ${journal.split.sourceDatabase} is ${journal.split.status}, but the monolith ${monolith.database} no longer exists to finish it`
              : `there is no monolith ${monolith.database} to split and no completed split in ${this.configService.config.authDatabase}`,
          );
        }
        if (options.dryRun) {
          const preflight = await this.dryRun.preflight({
            excludeTables: options.excludeTables,
            jobs: options.jobs,
          });
          return { mode: 'preflight', preflight: preflight.report };
        }
        lock.assertHeld();
        return {
          mode: 'split',
          split: await this.split(options, run, lock, journal !== null && journal.split !== null),
        };
      },
    );
  }

  /** CPU count (2 to 8), lowered so that jobs x 2 sessions leave room on the server. */
  async defaultJobs(): Promise<number> {
    const free = await this.connections.withClient(
      { database: this.configService.config.maintenanceDatabase },
      async (client) => {
        const result = await client.query<{ free: number }>(
          `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                - (SELECT count(*)::int FROM pg_stat_activity) AS free`,
        );
        return result.rows[0].free;
      },
    );
    return Math.max(1, Math.min(Math.max(2, Math.min(8, cpus().length)), Math.floor((free - 4) / 2)));
  }

  private async split(
    options: MigrateOptions & { jobs: number },
    run: RunContext,
    lock: HeldLock,
    resumed: boolean,
  ): Promise<SplitReport> {
    const started = Date.now();
    const timer = () => {
      const at = Date.now();
      return () => Date.now() - at;
    };
    const config = this.configService.config;
    const monolith = { database: config.monolithDatabase };
    run.info(resumed ? 'Resuming the split recorded in the journal.' : `Splitting ${monolith.database}.`);

    const preflightTime = timer();
    const preflight = await run.step('pre-flight', () =>
      this.dryRun.preflight({ excludeTables: options.excludeTables, jobs: options.jobs }),
    );
    const preflightMs = preflightTime();
    if (!preflight.report.ok || !preflight.plan) {
      const failed = preflight.report.checks.filter((check) => !check.ok);
      throw new MigrationException(
        MigrationExceptionCode.PreflightFailed,
        `pre-flight failed, nothing was written:\n${failed.map((check) => `  ❌ ${check.label}: ${check.detail}`).join('\n')}`,
        { checks: failed },
      );
    }
    const plan = preflight.plan;
    const targets = new SplitTargets(
      this.configService,
      this.connections,
      this.admin,
      this.schemaMigrations,
      this.journal,
      this.provisioning,
    );

    // One snapshot for everything read from the monolith in this run: fingerprints, backup and copy.
    const snapshot = await ExportedSnapshot.open(this.connections, monolith, {
      applicationName: 'topsteel-migrate',
    });
    let copied: CopiedTable[] = [];
    let prepareMs = 0;
    let backupMs = 0;
    let copyMs = 0;
    let constraintsMs = 0;
    let constraintsRestored = 0;
    let backup: { path: string; reused: boolean };
    let prepared: Awaited<ReturnType<SplitTargets['prepare']>>;
    try {
      const prepareTime = timer();
      // The plan was resolved before this snapshot: it must still describe exactly what the snapshot holds.
      const sourceTables = await fingerprintTargets(snapshot.client);
      const drift = planDrift(plan, sourceTables);
      if (drift.length > 0) {
        throw new MigrationException(
          MigrationExceptionCode.PreflightFailed,
          `the monolith changed during the pre-flight, nothing was copied:\n${drift.map((problem) => `  ❌ ${problem}`).join('\n')}`,
          { drift },
        );
      }
      const fingerprintSessions = [await snapshot.join('topsteel-migrate-fingerprint')];
      const [content, ready] = await Promise.all([
        (async () => {
          try {
            // The structure too: a backup is reused only if it also holds the monolith's schema as it is.
            const schema = await computeSchemaFingerprint(fingerprintSessions[0]);
            return { tables: await computeFingerprints(fingerprintSessions, sourceTables), schema };
          } finally {
            await releaseClients(fingerprintSessions);
          }
        })(),
        run.step('prepare databases', () => targets.prepare(run, snapshot.client, lock)),
      ]);
      prepared = ready;
      prepareMs = prepareTime();

      const backupTime = timer();
      backup = await run.step('backup', async () => {
        const existing = await this.backups.findMatchingBackup(monolith.database, content);
        if (existing) {
          run.info(
            `Reusing backup ${existing.path} (it matches the monolith's current content and structure).`,
          );
          return { path: existing.path, reused: true };
        }
        run.info('No backup matches the monolith: taking one in the copy snapshot.');
        const taken = await this.backups.backupInSnapshot(
          { location: monolith, role: 'monolith' },
          snapshot,
          content,
          run,
        );
        return { path: taken.path, reused: false };
      });
      backupMs = backupTime();
      await this.journal.withJournal((journal) =>
        journal.saveSplit({
          status: 'in_progress',
          sourceDatabase: monolith.database,
          runId: run.runId,
          backupPath: backup.path,
          societeId: prepared.societeId,
          excludedTables: plan.excluded
            .filter((exclusion) => exclusion.by === 'operator')
            .map((exclusion) => exclusion.source),
        }),
      );

      const pending = await run.step('plan the copy', () =>
        this.tablesToCopy(plan.tasks, prepared.locations, content.tables),
      );
      if (pending.length < plan.tasks.length)
        run.info(
          `${plan.tasks.length - pending.length} table(s) already copied and unchanged; ${pending.length} to copy.`,
        );

      const copyTime = timer();
      await this.journal.withJournal(async (journal) => {
        const engine = new CopyEngine(this.connections, {
          snapshot,
          jobs: options.jobs,
          societeId: prepared.societeId,
          locations: prepared.locations,
          journal,
          run,
          lock,
        });
        copied = await run.step('copy', () => engine.copy(pending));
        copyMs = copyTime();
        const constraintsTime = timer();
        constraintsRestored = await run.step('restore foreign keys', () =>
          engine.restoreConstraints(['auth', 'shared', 'tenant']),
        );
        constraintsMs = constraintsTime();
      });
    } finally {
      await snapshot.close();
    }

    const usersLinked = await run.step('link users to the default société', () =>
      targets.linkUsers(prepared.societeId),
    );
    await run.step('analyze', () => targets.analyze());

    const verifyTime = timer();
    await this.journal.withJournal((journal) =>
      journal.saveSplit({ status: 'verifying', sourceDatabase: monolith.database, runId: run.runId }),
    );
    const verification = await run.step('verify', () =>
      verifySplit(this.connections, {
        tasks: plan.tasks,
        cutReferences: plan.cutReferences,
        locations: prepared.locations,
        source: monolith,
        plan,
        societeId: prepared.societeId,
        jobs: options.jobs,
      }),
    );
    const verifyMs = verifyTime();
    lock.assertHeld();
    await this.record(verification, plan.tasks, prepared.locations, run);

    const copiedBy = new Map(copied.map((table) => [taskKey(table.database, table.target), table]));
    const report: SplitReport = {
      resumed,
      backup,
      databases: (['auth', 'shared', 'tenant'] as const).map((kind) => ({
        name: prepared.locations[kind].database,
        kind,
        created: prepared.created.some((database) => database.kind === kind),
      })),
      societeId: prepared.societeId,
      tables: plan.tasks.map((task) => {
        const table = copiedBy.get(taskKey(task.database, task.target));
        const verified = verification.tables.find(
          (entry) => entry.database === task.database && entry.target === task.target,
        );
        return {
          source: task.source,
          target: task.target,
          database: task.database,
          rows: verified?.targetRows ?? table?.rows ?? 0,
          copied: table !== undefined,
          durationMs: table?.durationMs ?? null,
        };
      }),
      excluded: plan.excluded,
      usersLinked,
      constraintsRestored,
      verification: {
        ok: verification.ok,
        problems: verification.problems,
        tables: verification.tables,
        references: verification.references,
        durationMs: verification.durationMs,
      },
      timings: {
        preflightMs,
        prepareMs,
        backupMs,
        copyMs,
        constraintsMs,
        verifyMs,
        totalMs: Date.now() - started,
      },
    };
    if (!verification.ok) {
      const tables = verification.tables.filter((table) => !table.ok);
      const references = verification.references.filter((reference) => !reference.ok);
      throw new MigrationException(
        MigrationExceptionCode.VerificationFailed,
        [
          'verification failed:',
          ...verification.problems.map((problem) => `  ${problem}`),
          ...tables.map(
            (table) =>
              `  ${table.source} -> ${table.database}.${table.target}: source ${table.sourceRows} rows / ${table.sourceChecksum}, target ${table.targetRows} rows / ${table.targetChecksum}`,
          ),
          ...references.map(
            (reference) =>
              `  ${reference.reference}: ${reference.targetDangling} dangling after the split, ${reference.sourceDangling} before`,
          ),
        ].join('\n'),
        { report },
      );
    }
    return report;
  }

  /**
   * Tables not yet copied, plus those a previous run copied whose target no longer matches the
   * source in this run's snapshot (the monolith changed since, or the copy was lost).
   */
  private async tablesToCopy(
    tasks: CopyTask[],
    locations: Record<SchemaKind, { database: string }>,
    fingerprints: Record<string, { rows: number; checksum: string }>,
  ): Promise<CopyTask[]> {
    const journal = await this.journal.read();
    const done = new Map(
      (journal?.tables ?? [])
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
      const target = await this.connections.withClient(locations[task.database], async (client) => {
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

  /** Writes the outcome to the journal: per-table results, the new databases' content, and the split's status. */
  private async record(
    verification: VerificationReport,
    tasks: CopyTask[],
    locations: Record<SchemaKind, { database: string }>,
    run: RunContext,
  ): Promise<void> {
    const monolith = this.configService.config.monolithDatabase;
    await this.journal.withJournal(async (journal) => {
      for (const table of verification.tables) {
        const task = tasks.find(
          (candidate) => candidate.database === table.database && candidate.target === table.target,
        );
        await journal.setTableState(
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
        await journal.saveSplit({
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
      for (const snapshot of verification.snapshots) await journal.saveSnapshot(snapshot);
      await journal.saveReferenceBaselines(
        new Map(
          verification.references.map((reference) => [reference.reference, reference.sourceDangling ?? 0]),
        ),
      );
      await journal.saveSplit({ status: 'complete', sourceDatabase: monolith, runId: run.runId });
      await journal.finishRun(run.runId, 'complete', 0, { tables: tasks.length });
    });
  }
}
