import { Client } from 'pg';
import { SplitTablesPolicy } from '../../../database/config/multi-tenant-database.config';
import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { translateDatabaseError } from '../../../modules/database/database.exception';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { SetAsideStructure } from '../../../modules/database/journal/journal.types';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { CopyTask } from '../plan/plan-resolver';
import { ExportedSnapshot } from '../snapshot/exported-snapshot';
import { CopiedTable } from './copied-table.types';
import { keyValidationSessions } from './connection-budget.service';
import { CopyJob, runCopyJobs } from './copy-scheduler';
import { rangedTableJob } from './ranged-copy';
import { tablesInRanges } from './range-policy';
import { deferForeignKeys, restoreForeignKeys } from './constraint-deferral';
import { copyTable, IndexBuildSettings, targetColumnNames } from './table-copier';

export type CopyEngineOptions = {
  snapshot: ExportedSnapshot;
  jobs: number;
  societeId: string;
  locations: Record<SchemaKind, DatabaseLocation>;
  journal: JournalRepository;
  run: RunContext;
  /** Checked before every table: nothing is written once the migration lock is lost. */
  lock: HeldLock;
  /** Which tables are copied in block ranges by several workers at once (tablesInRanges); unset, none. */
  splitTables?: SplitTablesPolicy;
};

export type { CopiedTable } from './copied-table.types';

/** Per index-building session; several tables build side by side. */
const MAINTENANCE_WORK_MEM = '256MB';

/**
 * With two workers or more, each core already has a copy worker: an index build's parallel
 * workers would only be more processes on the same cores (see IndexBuildSettings).
 */
export const indexBuildSettings = (jobs: number): IndexBuildSettings => ({
  maintenanceWorkMem: MAINTENANCE_WORK_MEM,
  ...(jobs >= 2 ? { indexWorkers: 0 } : {}),
});

/**
 * Tables up to 1 MiB load into their indexes instead of rebuilding them (table-copier's
 * copySmallTable): a few thousand rows at most, where the rebuild's DDL and file churn cost more
 * than maintaining the index row by row.
 */
const SMALL_TABLE_BYTES = 1024 * 1024;

type Worker = { source?: Client; targets: Map<SchemaKind, Client> };

/**
 * Copies tables in parallel (`--jobs` workers), every source read in the one exported snapshot,
 * largest tables first so the longest copy starts early. Each table is one target transaction
 * recorded in the journal; foreign keys are set aside per database while loading and restored at
 * the end. On SIGINT/SIGTERM the workers finish the table in hand and take no other.
 */
export class CopyEngine {
  constructor(
    private readonly connections: PostgresConnectionFactory,
    private readonly options: CopyEngineOptions,
  ) {}

  async copy(tasks: CopyTask[]): Promise<CopiedTable[]> {
    const { run, jobs } = this.options;
    await this.deferForeignKeys([...new Set(tasks.map((task) => task.database))]);
    const encoding = await this.sourceEncoding();
    const setAside = await this.rangeLoads();
    const ranged = tablesInRanges(tasks, jobs, this.options.splitTables);
    const inRanges = (task: CopyTask) => ranged.has(task);
    const copied: CopiedTable[] = [];
    const queue = [...tasks]
      .sort((left, right) => right.sizeBytes - left.sizeBytes)
      .map((task): CopyJob<Worker, CopyTask> => {
        const structures = setAside.get(`${this.options.locations[task.database].database}.${task.target}`);
        if (!inRanges(task))
          return {
            key: task,
            run: async (worker) => void copied.push(await this.copyOne(worker, task, encoding, structures)),
          };
        return rangedTableJob<Worker>(task, structures ?? [], {
          ...this.options,
          targetDatabase: this.options.locations[task.database].database,
          workers: jobs,
          ...indexBuildSettings(jobs),
          sessions: (worker, ranged) => this.sessions(worker, ranged, encoding),
          done: (table) => copied.push(table),
        });
      });
    const workers: Worker[] = Array.from(
      { length: Math.max(1, Math.min(jobs, ranged.size > 0 ? jobs : tasks.length)) },
      () => ({ targets: new Map() }),
    );
    let failure: { key: CopyTask; error: unknown } | undefined;
    try {
      failure = await runCopyJobs(workers, queue, {
        stopped: () => Boolean(run.shutdown.requested),
        // A session that failed mid-COPY is in an unknown state: drop it, the next job opens a new one.
        afterFailure: closeWorker,
      });
    } finally {
      await Promise.all(workers.map(closeWorker));
    }
    if (failure) throw copyFailed(failure.key, failure.error);
    run.shutdown.throwIfRequested();
    return copied;
  }

  /** Indexes and keys that interrupted range loads set aside, by `database.table`. */
  private async rangeLoads(): Promise<Map<string, SetAsideStructure[]>> {
    const loads = await this.options.journal.rangeLoads();
    return new Map(loads.map((load) => [`${load.targetDatabase}.${load.targetTable}`, load.structures]));
  }

  /**
   * Foreign keys of every target database set aside (recorded in the journal first) while loading,
   * the databases side by side (each journal write is one statement, so they share its session).
   */
  private async deferForeignKeys(kinds: SchemaKind[]): Promise<void> {
    const { journal, locations } = this.options;
    const outcomes = await Promise.allSettled(
      kinds.map(async (kind) => {
        const target = await this.connections.connect(locations[kind], {
          applicationName: 'topsteel-migrate-defer',
        });
        try {
          await deferForeignKeys(target, locations[kind].database, journal);
        } finally {
          await target.end().catch(() => undefined);
        }
      }),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Both ends of every COPY speak the monolith's own encoding, so its bytes travel untouched: a
   * SQL_ASCII monolith may hold bytes that are not UTF-8 (the driver's default would refuse them),
   * and a target in another encoding converts from the real one.
   */
  private async sourceEncoding(): Promise<string> {
    const result = await this.options.snapshot.client.query<{ encoding: string }>(
      "SELECT current_setting('server_encoding') AS encoding",
    );
    return result.rows[0].encoding;
  }

  /** One table: one target transaction, journaled as copying then copied with the id of the transaction that wrote it. */
  private async copyOne(
    worker: Worker,
    task: CopyTask,
    encoding: string,
    setAside?: SetAsideStructure[],
  ): Promise<CopiedTable> {
    const { journal, run, locations } = this.options;
    this.options.lock.assertHeld();
    const started = Date.now();
    const progress = run.progress.task(`${task.database}.${task.target}`, task.estimatedRows);
    try {
      const { source, target } = await this.sessions(worker, task, encoding);
      const state = {
        sourceTable: task.source,
        targetDatabase: locations[task.database].database,
        targetTable: task.target,
      };
      await journal.setTableState({ ...state, status: 'copying', rows: null, checksum: null }, run.runId);
      const { rows, xid, loadMs, indexMs } = await copyTable(source, target, task, {
        societeId: this.options.societeId,
        ...indexBuildSettings(this.options.jobs),
        onRows: (count) => progress.update(count),
        setAside,
        smallTableBytes: SMALL_TABLE_BYTES,
      });
      await journal.setTableState(
        {
          ...state,
          status: 'copied',
          rows,
          checksum: null,
          checksumColumns: targetColumnNames(task),
          loadedXids: [xid],
        },
        run.runId,
      );
      if (setAside) await journal.forgetRangeLoad(state.targetDatabase, state.targetTable);
      progress.finish(`${rows} rows`);
      const durationMs = Date.now() - started;
      run.log('copy table', { table: `${task.database}.${task.target}`, rows, durationMs });
      return {
        source: task.source,
        target: task.target,
        database: task.database,
        rows,
        durationMs,
        loadMs,
        indexMs,
        // A whole-table load no longer reads its rows back (see CopiedTable.checksumMs).
        checksumMs: 0,
      };
    } catch (error) {
      progress.fail(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  /** The worker's reader in the snapshot and its writer on the task's database, opened once and kept. */
  private async sessions(
    worker: Worker,
    task: CopyTask,
    encoding: string,
  ): Promise<{ source: Client; target: Client }> {
    worker.source ??= await speakEncoding(
      await this.options.snapshot.join('topsteel-migrate-read'),
      encoding,
    );
    let target = worker.targets.get(task.database);
    if (!target) {
      target = await speakEncoding(
        await this.connections.connect(this.options.locations[task.database], {
          applicationName: 'topsteel-migrate-write',
        }),
        encoding,
      );
      worker.targets.set(task.database, target);
      // The same settings as every session that checksums a target, so the load never depends on a
      // server's defaults. Target sessions only: the source's projection must see the monolith's own settings.
      await target.query(DETERMINISTIC_SESSION_SETTINGS);
    }
    return { source: worker.source, target };
  }

  /**
   * Adds back the deferred foreign keys of every target database, the databases side by side: the
   * tenant's keys (the large tables) get one session per worker, AUTH's and SHARED's one each.
   */
  async restoreConstraints(kinds: SchemaKind[]): Promise<number> {
    this.options.lock.assertHeld();
    const outcomes = await Promise.allSettled(
      kinds.map((kind) => this.restoreIn(kind, keyValidationSessions(kind, this.options.jobs))),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return outcomes.reduce((sum, outcome) => sum + (outcome.status === 'fulfilled' ? outcome.value : 0), 0);
  }

  private async restoreIn(kind: SchemaKind, sessionCount: number): Promise<number> {
    const location = this.options.locations[kind];
    const sessions: Client[] = [];
    try {
      // Connected side by side: each connection costs a round trip and an authentication.
      const opened = await Promise.allSettled(
        Array.from({ length: sessionCount }, () =>
          this.connections.connect(location, { applicationName: 'topsteel-migrate-constraints' }),
        ),
      );
      for (const result of opened) if (result.status === 'fulfilled') sessions.push(result.value);
      const failed = opened.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      return await restoreForeignKeys(sessions, location.database, this.options.journal);
    } catch (error) {
      // Labelled here with the database at fault: the caller's journal session would name AUTH.
      throw translateDatabaseError(error, this.connections.describe(location));
    } finally {
      await Promise.all(sessions.map((session) => session.end().catch(() => undefined)));
    }
  }
}

/**
 * Set after connecting: the driver always announces client_encoding=UTF8 in its start-up packet,
 * which would override a -c option.
 */
export async function speakEncoding(client: Client, encoding: string): Promise<Client> {
  try {
    await client.query("SELECT set_config('client_encoding', $1, false)", [encoding]);
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

function copyFailed(task: CopyTask, error: unknown): MigrationException {
  const message = error instanceof Error ? error.message : String(error);
  return new MigrationException(
    MigrationExceptionCode.CopyFailed,
    `copy of ${task.source} into ${task.database}.${task.target} failed: ${message}`,
    { table: task.source },
    { cause: error },
  );
}

async function closeWorker(worker: Worker): Promise<void> {
  const clients = [worker.source, ...worker.targets.values()].filter(
    (client): client is Client => client !== undefined,
  );
  worker.source = undefined;
  worker.targets.clear();
  await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
}
