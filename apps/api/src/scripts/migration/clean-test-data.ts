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
import { analyzeRules } from './clean/clean-analysis';
import { readArchive, verifyArchiveFiles } from './clean/clean-archive';
import { CoveringBackup, executeClean, refuse } from './clean/clean-execution';
import { restoreArchive } from './clean/clean-restorer';
import {
  CleanExecuteOptions,
  CleanOptions,
  cleanReport,
  restoreReport,
  CleanReport,
  CleanRestoreOptions,
  CleanRestoreReport,
  CleanBackupReport,
} from './clean/clean-report';
import { cleanLocation, splitRecorded } from './clean/clean-target';
import { ensureCoveringBackup } from './clean/covering-backup';
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
import { loadRulesFile } from './clean/rules-file';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';

// The CLI and the tests import the report shapes from here, the file the migration guide names.
export {
  CleanBackupReport,
  CleanExecuteOptions,
  CleanOptions,
  CleanReport,
  CleanRestoreOptions,
  CleanRestoreReport,
} from './clean/clean-report';

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
          ? `db:clean:execute archives these rows under ${this.archiveRoot} first, and needs a verified db:backup ` +
              'of the monolith no older than --max-backup-age (24h) that matches it, or takes one'
          : `db:clean:execute -- --target auth archives these rows under ${this.archiveRoot} first; ` +
              'no db:backup is required there (the archive is the safety net)',
      );
    }
    return cleanReport('dry-run', target, location, analysis, { backup: null, archive: null, notes });
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
          const chosen = await ensureCoveringBackup(
            this.backups,
            this.configService.config.monolithDatabase,
            options,
            run,
          );
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
        if (!result.archive)
          return cleanReport('execute', target, location, result.analysis, {
            backup: null,
            archive: null,
            notes: [],
          });
        const manifest = result.archive.manifest;
        const restoreCommand = `npm run db:clean -- --restore ${result.archive.name}${target === 'auth' ? ' --target auth' : ''}`;
        return cleanReport('execute', target, location, result.analysis, {
          backup: backupReport,
          archive: {
            name: result.archive.name,
            path: result.archive.path,
            tables: manifest.tables.length,
            deletedRows: manifest.rows.deleted,
            modifiedRows: manifest.rows.modified,
          },
          notes: [`Restore with: ${restoreCommand}`],
        });
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
          const origin = { name: options.archive, path: archive.path, createdAt: manifest.createdAt };
          return restoreReport(manifest.target, location, origin, tables, established);
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

  private location(target: CleanTarget): Promise<DatabaseLocation> {
    return cleanLocation(this.configService.config, this.journal, target);
  }

  private splitRecorded(): Promise<string | null> {
    return splitRecorded(this.configService.config, this.journal);
  }

  /** Checked under the migration lock, so that no split can start in between. */
  private async assertMonolithWritable(target: CleanTarget): Promise<void> {
    if (target !== 'monolith') return;
    const reason = await this.splitRecorded();
    if (reason) throw new CleanException(CleanExceptionCode.MonolithFrozen, reason);
  }
}
