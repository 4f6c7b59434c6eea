import { Injectable } from '@nestjs/common';
import { Checklist } from '../../common/run/checklist';
import { RunContext } from '../../common/run/run-context';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { describeHolder, MigrationLockService } from '../../modules/database/migration-lock.service';
import { PostgresConnectionFactory } from '../../modules/database/postgres-connection.factory';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { BackupCurrentDatabaseService } from './backup-current-database';
import { dumpAndDrop, reopenDoors } from './rollback/drop-databases';
import { newRollbackState } from './rollback/new-state';
import { nextSteps } from './rollback/next-steps';
import { restoreAndSwap } from './rollback/restore-and-swap';
import { RollbackDependencies } from './rollback/rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback/rollback.exception';
import { nothingToDoMessage } from './rollback/rollback-messages';
import { nothingDoneYet, RollbackStateFile } from './rollback/rollback-state';
import { RollbackOptions, RollbackReport, RollbackValidation } from './rollback/rollback.types';
import { ROLLBACK_CHECKS } from './rollback/validation-checks';
import { readValidationFacts } from './rollback/validation-facts';
import { serverMajor, PgToolsService } from './tools/pg-tools.service';
import { dropOnlineLeftovers } from './online/online-leftovers';
import { drainReverseSync, readReverseSync } from './rollback/reverse-drain';

export { nothingToDoMessage } from './rollback/rollback-messages';
export type {
  PostSplitChange,
  RollbackOptions,
  RollbackReport,
  RollbackValidation,
} from './rollback/rollback.types';

/**
 * `db:rollback:validate` and `db:rollback` (DESIGN.md invariant 5). The order is what keeps a
 * failure harmless: restore the monolith into a new database and verify it, swap it in, and only
 * then dump and drop what the journal records as created by the tool. Until the swap, a failure
 * leaves every database where it was. The parts live in ./rollback/.
 */
@Injectable()
export class RollbackMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly lock: MigrationLockService,
    private readonly journal: MigrationJournalService,
    private readonly backups: BackupCurrentDatabaseService,
    private readonly catalog: BackupCatalogService,
    private readonly tools: PgToolsService,
  ) {}

  private get dependencies(): RollbackDependencies {
    const config = this.configService.config;
    return {
      config,
      connections: this.connections,
      admin: this.admin,
      journal: this.journal,
      backups: this.backups,
      catalog: this.catalog,
      tools: this.tools,
      stateFile: new RollbackStateFile(config),
    };
  }

  /** Reads everything once, then runs the named checks over it; changes nothing. */
  async validate(options: RollbackOptions = {}): Promise<RollbackValidation> {
    const facts = await readValidationFacts(this.dependencies, options);
    const checklist = await new Checklist().run(facts, ROLLBACK_CHECKS);
    for (const line of await this.tools.checks(serverMajor(facts.server.versionNumber)))
      checklist.add(line.id, line.label, line);
    const nothingToDo = !facts.inProgress && facts.drop.length === 0 && !facts.restoreNeeded;
    return {
      ok: checklist.ok,
      inProgress: facts.inProgress !== null,
      nothingToDo,
      splitStatus: facts.splitStatus,
      checks: checklist.checks,
      backup: facts.backup,
      drop: facts.drop,
      untouched: facts.untouched,
      restore: {
        needed: facts.restoreNeeded,
        monolithExists: facts.monolithExists,
        differences: facts.differences,
        schemaDifferences: facts.schemaDifferences,
        schemaCompared: facts.schemaCompared,
        comparison: facts.comparison,
      },
      postSplitData: facts.postSplit.changes,
      reverseSync: facts.reverse ? facts.reverseStatus : null,
    };
  }

  async rollback(
    options: RollbackOptions & {
      lockTimeoutMs: number;
      confirm: (validation: RollbackValidation) => Promise<boolean>;
    },
    run: RunContext,
  ): Promise<RollbackReport> {
    const validation = await run.step('validate', () => this.validate(options));
    this.assertValid(validation);
    if (validation.nothingToDo) {
      return {
        nothingToDo: true,
        dropped: [],
        preDropBackup: null,
        restored: false,
        replacedMonolith: null,
        backup: validation.backup?.path ?? null,
        pauseMs: null,
        reverseSync: null,
        nextSteps: [nothingToDoMessage(validation)],
      };
    }
    if (!(await options.confirm(validation)))
      throw new RollbackException(RollbackExceptionCode.Declined, 'rollback declined');

    return this.lock.withMigrationLock(
      'rollback',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      async (lock) => {
        const dependencies = this.dependencies;
        const interrupted = dependencies.stateFile.read();
        if (interrupted) await reopenDoors(dependencies, interrupted, run);
        // Things may have moved while we waited for the lock: check again before touching anything.
        const current = await this.validate(options);
        this.assertValid(current);
        const state = dependencies.stateFile.read() ?? (await newRollbackState(dependencies, current, run));
        dependencies.stateFile.write(state);
        lock.assertHeld();
        const reverse = await readReverseSync(dependencies);
        const drained = reverse
          ? await drainReverseSync(dependencies, reverse, run).catch((error: unknown) => {
              // A drain that failed changed nothing: no unfinished rollback is left on record.
              if (nothingDoneYet(state)) dependencies.stateFile.discard();
              throw error;
            })
          : null;
        lock.assertHeld();
        await dropOnlineLeftovers(this.connections, this.admin, this.configService.config, run);
        if (state.restore.needed && !state.restore.swapped)
          await restoreAndSwap(dependencies, state, run, lock);
        lock.assertHeld();
        await dumpAndDrop(dependencies, state, run, lock);
        dependencies.stateFile.complete(state, state.preDropBackup ?? state.backup?.path ?? null);
        return {
          nothingToDo: false,
          dropped: state.dropped,
          preDropBackup: state.preDropBackup,
          restored: state.restore.needed,
          replacedMonolith: state.restore.swapped ? state.restore.replacedName : null,
          backup: state.backup?.path ?? null,
          pauseMs: drained?.pauseMs ?? null,
          reverseSync: drained,
          nextSteps: nextSteps(this.catalog, state),
        };
      },
    );
  }

  private assertValid(validation: RollbackValidation): void {
    if (validation.ok) return;
    const failed = validation.checks.filter((check) => !check.ok);
    throw new RollbackException(
      RollbackExceptionCode.ValidationFailed,
      `rollback refused, nothing was changed:\n${failed.map((check) => `  ❌ ${check.label}: ${check.detail}`).join('\n')}`,
      { checks: failed },
    );
  }
}
