import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { RunContext } from '../../common/run/run-context';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { describeHolder, MigrationLockService } from '../../modules/database/migration-lock.service';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { BackupCurrentDatabaseService } from './backup-current-database';
import { analyzeRules, CleanAnalysis, CleanRuleReport } from './clean/clean-analysis';
import { readArchive, verifyArchiveFiles } from './clean/clean-archive';
import { CoveringBackup, executeClean, refuse } from './clean/clean-execution';
import { restoreArchive, RestoredTable } from './clean/clean-restorer';
import { CleanException, CleanExceptionCode } from './clean/clean.exception';
import {
  CLEAN_TARGETS,
  CleanRule,
  CleanTarget,
  DEFAULT_CLEAN_RULES,
  mergeRules,
  selectRules,
} from './clean/clean-rules';
import { cancelOnAbort } from './clean/cancel-on-abort';
import { readForeignKeyGraph } from './clean/foreign-key-graph';
import { PlanSummary } from './clean/plan-summary';
import { loadRulesFile } from './clean/rules-file';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';

export type CleanOptions = {
  target?: string;
  /** Rule names (--rule, repeatable); every rule of the target when empty. */
  rules?: string[];
  rulesFile?: string;
};

export type CleanExecuteOptions = CleanOptions & {
  maxBackupAgeMs: number;
  /** Take a db:backup when none usable exists (default); false refuses instead. */
  autoBackup: boolean;
  lockTimeoutMs: number;
};

export type CleanRestoreOptions = {
  archive: string;
  target?: string;
  lockTimeoutMs: number;
  /** Restore rows of tables without primary key although PostgreSQL cannot tell whether they are already there. */
  acceptDuplicateRisk?: boolean;
};

export type CleanBackupReport =
  | { policy: 'matching' | 'taken'; name: string; path: string; createdAt: string; detail: string }
  | { policy: 'not-required'; detail: string };

export type CleanReport = {
  mode: 'dry-run' | 'execute';
  target: CleanTarget;
  database: string;
  rules: CleanRuleReport[];
  /** What execute deletes (or deleted): each row once, cascades included. */
  totals: PlanSummary;
  nothingToDo: boolean;
  /** Why execute would refuse (blocking references, changes it could not restore). */
  refusals: string[];
  backup: CleanBackupReport | null;
  archive: { name: string; path: string; tables: number; deletedRows: number; modifiedRows: number } | null;
  notes: string[];
};

export type CleanRestoreReport = {
  mode: 'restore';
  target: CleanTarget;
  database: string;
  archive: { name: string; path: string; createdAt: string };
  tables: RestoredTable[];
  insertedRows: number;
  updatedRows: number;
  /** What made the restore safe: the clean committed, earlier restores did not (or why keys had to decide). */
  established: string[];
};

const AUTH_POLICY =
  'not required on AUTH: the archive of every deleted row (checksummed, restorable with --restore) is the safety net for this periodic rule';

/**
 * `db:clean` / `db:clean:execute`: test data and stale rows removed by explicit rules, with every
 * row ON DELETE CASCADE takes along. The dry run (default) counts and samples in a read-only
 * transaction; execute archives then deletes in one verified transaction under the migration
 * lock; `--restore` puts an archive back. `--target auth` applies the periodic rules to AUTH.
 */
@Injectable()
export class CleanTestDataService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly lock: MigrationLockService,
    private readonly backups: BackupCurrentDatabaseService,
    private readonly journal: MigrationJournalService,
  ) {}

  /** Every known rule: the built-in ones plus those of a rules file. */
  rules(rulesFile?: string): CleanRule[] {
    return rulesFile ? mergeRules(DEFAULT_CLEAN_RULES, loadRulesFile(rulesFile)) : [...DEFAULT_CLEAN_RULES];
  }

  get archiveRoot(): string {
    return join(this.configService.config.backupDir, 'clean');
  }

  async dryRun(options: CleanOptions): Promise<CleanReport> {
    const { target, rules } = this.choose(options);
    const location = await this.location(target);
    const analysis = await this.connections.withClient(
      location,
      async (client) => {
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const graph = await readForeignKeyGraph(client);
          return await analyzeRules(client, graph, rules, this.configService.config);
        } finally {
          await client.query('ROLLBACK').catch(() => undefined);
        }
      },
      { readOnly: true, applicationName: 'topsteel-clean' },
    );
    const notes = [...analysis.notes];
    // After the split the monolith is read-only for good: that is the state, not a failure of this
    // dry run (which exits 0 and says so); execute refuses with MONOLITH_FROZEN.
    const frozen = target === 'monolith' ? await this.splitRecorded() : null;
    if (frozen)
      notes.push(`${frozen}: db:clean:execute will not delete from it; maintain AUTH with --target auth`);
    if (analysis.totals.deletedRows > 0) {
      notes.push(
        target === 'monolith'
          ? `db:clean:execute archives these rows under ${this.archiveRoot} first, and needs a verified db:backup of the monolith no older than --max-backup-age (24h) that matches it, or takes one`
          : `db:clean:execute -- --target auth archives these rows under ${this.archiveRoot} first; no db:backup is required there (the archive is the safety net)`,
      );
    }
    return this.report('dry-run', target, location, analysis, null, null, notes);
  }

  async execute(options: CleanExecuteOptions, run: RunContext): Promise<CleanReport> {
    const { target, rules } = this.choose(options);
    const location = await this.location(target);
    return this.lock.withMigrationLock(
      'clean',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      async (lock) => {
        await this.assertMonolithWritable(target);
        let backup: CoveringBackup | null = null;
        let backupReport: CleanBackupReport = { policy: 'not-required', detail: AUTH_POLICY };
        if (target === 'monolith') {
          // A backup is only worth taking when there is something to delete.
          const preview = await run.step('preview', () => this.dryRun(options));
          if (preview.totals.deletedRows === 0)
            return { ...preview, mode: 'execute', backup: null, notes: [] };
          refuse(preview);
          const chosen = await this.ensureBackup(options, run);
          backup = chosen.backup;
          backupReport = chosen.report;
          run.info(`Backup: ${backupReport.detail}`);
        }
        const result = await executeClean({
          connections: this.connections,
          location,
          target,
          rules,
          settings: this.configService.config,
          archiveRoot: this.archiveRoot,
          backup,
          lockTimeoutMs: options.lockTimeoutMs,
          run,
          lock,
        });
        if (!result.archive) return this.report('execute', target, location, result.analysis, null, null, []);
        const manifest = result.archive.manifest;
        return this.report(
          'execute',
          target,
          location,
          result.analysis,
          backupReport,
          {
            name: result.archive.name,
            path: result.archive.path,
            tables: manifest.tables.length,
            deletedRows: manifest.rows.deleted,
            modifiedRows: manifest.rows.modified,
          },
          [
            `Restore with: npm run db:clean -- --restore ${result.archive.name}${target === 'auth' ? ' --target auth' : ''}`,
          ],
        );
      },
    );
  }

  async restore(options: CleanRestoreOptions, run: RunContext): Promise<CleanRestoreReport> {
    const archive = readArchive(this.archiveRoot, options.archive);
    const manifest = archive.manifest;
    if (options.target !== undefined && options.target !== manifest.target)
      throw new CleanException(
        CleanExceptionCode.InvalidOption,
        `archive ${options.archive} was taken from --target ${manifest.target}, not ${options.target}`,
      );
    const location = await this.location(manifest.target);
    if (manifest.database !== location.database)
      throw new CleanException(
        CleanExceptionCode.ArchiveForOtherDatabase,
        `archive ${options.archive} comes from database ${manifest.database}, but the ${manifest.target} database is ${location.database}`,
      );
    await run.step('verify the archive files', () => verifyArchiveFiles(archive.path, manifest));
    return this.lock.withMigrationLock(
      'clean:restore',
      {
        timeoutMs: options.lockTimeoutMs,
        onWait: (holder) => run.info(`Waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      async (lock) => {
        await this.assertMonolithWritable(manifest.target);
        const client = await this.connections.connect(location, {
          applicationName: 'topsteel-clean-restore',
        });
        const stopCancelling = await cancelOnAbort(this.connections, location, client, run.shutdown.signal);
        try {
          await client.query(DETERMINISTIC_SESSION_SETTINGS);
          const { tables, established } = await restoreArchive(client, archive, {
            lockTimeoutMs: options.lockTimeoutMs,
            acceptDuplicateRisk: options.acceptDuplicateRisk === true,
            run,
            lock,
          });
          return {
            mode: 'restore' as const,
            target: manifest.target,
            database: location.database,
            archive: { name: options.archive, path: archive.path, createdAt: manifest.createdAt },
            tables,
            insertedRows: tables
              .filter((table) => table.action === 'inserted')
              .reduce((sum, table) => sum + table.rows, 0),
            updatedRows: tables
              .filter((table) => table.action === 'updated')
              .reduce((sum, table) => sum + table.rows, 0),
            established,
          };
        } finally {
          stopCancelling();
          await client.end().catch(() => undefined);
        }
      },
    );
  }

  private choose(options: CleanOptions): { target: CleanTarget; rules: CleanRule[] } {
    const target = (options.target ?? 'monolith') as CleanTarget;
    if (!CLEAN_TARGETS.includes(target))
      throw new CleanException(
        CleanExceptionCode.InvalidOption,
        `--target must be one of ${CLEAN_TARGETS.join(', ')}`,
      );
    return { target, rules: selectRules(this.rules(options.rulesFile), target, options.rules) };
  }

  /** The monolith, or AUTH once the split is complete (cleaning it mid-split would break resume and verify). */
  private async location(target: CleanTarget): Promise<DatabaseLocation> {
    const config = this.configService.config;
    if (target === 'monolith') return { database: config.monolithDatabase };
    const journal = await this.journal.read();
    if (journal?.split?.status !== 'complete')
      throw new CleanException(
        CleanExceptionCode.TargetNotReady,
        journal?.split
          ? `the split recorded in ${config.authDatabase} is ${journal.split.status}, not complete`
          : `${config.authDatabase} holds no completed split`,
      );
    return { database: config.authDatabase };
  }

  /** Why the monolith must not change any more (a split is recorded), or null. */
  private async splitRecorded(): Promise<string | null> {
    const split = (await this.journal.read())?.split;
    return split
      ? `a split is recorded in ${this.configService.config.authDatabase} (${split.status}): the monolith stays as the split read it`
      : null;
  }

  /** Checked under the migration lock, so that no split can start in between. */
  private async assertMonolithWritable(target: CleanTarget): Promise<void> {
    if (target !== 'monolith') return;
    const reason = await this.splitRecorded();
    if (reason) throw new CleanException(CleanExceptionCode.MonolithFrozen, reason);
  }

  /**
   * A verified pre-migration backup of the monolith, no older than --max-backup-age, whose manifest
   * matches the monolith's current counts and checksums; else one taken now (or a refusal with
   * --no-auto-backup). The transaction checks again, under its locks, that the tables it changes
   * still match it.
   */
  private async ensureBackup(
    options: CleanExecuteOptions,
    run: RunContext,
  ): Promise<{ backup: CoveringBackup; report: CleanBackupReport }> {
    const database = this.configService.config.monolithDatabase;
    const location = { database };
    const content = await run.step('fingerprint the monolith', () => this.backups.describe(location));
    const match = await run.step('find a matching backup', () =>
      this.backups.findMatchingBackup(database, content),
    );
    const ageMs = match ? Date.now() - Date.parse(match.manifest.createdAt) : null;
    if (match && ageMs !== null && ageMs <= options.maxBackupAgeMs) {
      // The backup's own record, never the live fingerprint: the clean re-checks the tables against it.
      return {
        backup: { name: match.name, path: match.path, tables: match.entry.tables },
        report: {
          policy: 'matching',
          name: match.name,
          path: match.path,
          createdAt: match.manifest.createdAt,
          detail: `${match.path} (verified, ${Math.round(ageMs / 60000)} min old, matches the monolith)`,
        },
      };
    }
    const why = match
      ? `the newest backup matching the monolith (${match.name}) is older than --max-backup-age`
      : 'no verified backup matches the monolith as it is now';
    if (!options.autoBackup)
      throw new CleanException(
        CleanExceptionCode.BackupRequired,
        `${why}, and --no-auto-backup forbids taking one`,
      );
    run.info(`${why}: taking one now.`);
    const taken = await run.step('backup', () =>
      this.backups.backup([{ location, role: 'monolith' }], { kind: 'pre-migration', run }),
    );
    const entry = taken.manifest.databases.find((candidate) => candidate.database === database);
    return {
      backup: { name: taken.name, path: taken.path, tables: entry?.tables ?? {} },
      report: {
        policy: 'taken',
        name: taken.name,
        path: taken.path,
        createdAt: taken.manifest.createdAt,
        detail: `${taken.path} (taken now: ${why})`,
      },
    };
  }

  private report(
    mode: CleanReport['mode'],
    target: CleanTarget,
    location: DatabaseLocation,
    analysis: CleanAnalysis,
    backup: CleanBackupReport | null,
    archive: CleanReport['archive'],
    notes: string[],
  ): CleanReport {
    return {
      mode,
      target,
      database: location.database,
      rules: analysis.rules,
      totals: analysis.totals,
      nothingToDo: analysis.totals.deletedRows === 0,
      refusals: analysis.refusals,
      backup,
      archive,
      notes: mode === 'dry-run' ? notes : [...analysis.notes, ...notes],
    };
  }
}
