import { Injectable } from '@nestjs/common';
import { RunContext } from '../../common/run/run-context';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { describeHolder, MigrationLockService } from '../../modules/database/migration-lock.service';
import { SchemaMigrationService } from '../../modules/database/schema-migration.service';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import {
  ConnectionBudgetService,
  JobsDecision,
  roomToVerifyBesideKeys,
} from './copy/connection-budget.service';
import { DryRunMigrationService, DryRunReport } from './dry-run-migration';
import { SchemaFanOut, SchemaFanOutReport } from './fan-out/schema-fan-out';
import { MigrationException, MigrationExceptionCode } from './migration.exception';
import { RollbackException, RollbackExceptionCode } from './rollback/rollback.exception';
import { RollbackStateFile } from './rollback/rollback-state';
import { SplitOrchestrator } from './split/split-orchestrator';
import { SplitReport } from './split/split-report';

export type { SplitReport } from './split/split-report';

export type MigrateOptions = {
  excludeTables?: string[];
  /** Parallel tables / databases; by default from the CPU count; always capped by the free connections. */
  jobs?: number;
  lockTimeoutMs: number;
  tenants?: string[];
  dryRun?: boolean;
  /** Recopy target tables changed since the tool loaded them, after dumping them into BACKUP_DIR. */
  discardTargetChanges?: boolean;
};

type MigrateOutcome =
  | { mode: 'split'; split: SplitReport }
  | { mode: 'preflight'; preflight: DryRunReport }
  | { mode: 'schema-migrations'; migrations: SchemaFanOutReport };

export type MigrateReport = MigrateOutcome & {
  /** The --jobs used: the CPUs or --jobs, capped by the connections the server and the role have free. */
  jobs: JobsDecision;
};

/**
 * `db:migrate`. Under the migration lock: the first run splits the monolith (pre-flight, backup,
 * targets, copy, verification, journal), resuming whatever an interrupted run left; once the split
 * is complete, every run applies the pending schema migrations of AUTH, SHARED and every tenant.
 */
@Injectable()
export class MigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly admin: DatabaseAdminService,
    private readonly lock: MigrationLockService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly dryRun: DryRunMigrationService,
    private readonly societes: SocieteRegistryService,
    private readonly splitter: SplitOrchestrator,
    private readonly budget: ConnectionBudgetService,
  ) {}

  async migrate(requested: MigrateOptions, run: RunContext): Promise<MigrateReport> {
    const jobs = await this.budget.jobs(requested.jobs);
    if (jobs.note) run.info(`⚠ ${jobs.note}.`);
    const options = { ...requested, jobs: jobs.jobs, verifyBesideKeys: roomToVerifyBesideKeys(jobs) };
    const report = await this.lock.withMigrationLock<MigrateOutcome>(
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
          split: await this.splitter.split({
            options,
            run,
            lock,
            monolith,
            resumed: journal !== null && journal.split !== null,
            backupDir: this.configService.config.backupDir,
          }),
        };
      },
    );
    return { ...report, jobs };
  }
}
