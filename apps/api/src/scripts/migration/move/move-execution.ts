import { Client } from 'pg';
import { InterruptedException } from '../../../common/run/interrupted.exception';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { PgToolsService } from '../tools/pg-tools.service';
import { copyTenantDatabase } from './move-copy';
import { dumpOldDatabase } from './move-dump';
import { MoveJournal, MoveState, MoveStep } from './move-journal';
import { createdByMove, fenceSource, moveMarkerNote, unfenceSource } from './move-source-fence';
import { assertSameSchema, listTables, MovedTable } from './move-tables';
import { verifyMove } from './move-verify';
import { MoveException, MoveExceptionCode } from './move.exception';
import { MoveReport, MoveRequest } from './move.types';

export type MoveDependencies = {
  connections: PostgresConnectionFactory;
  admin: DatabaseAdminService;
  schemaMigrations: SchemaMigrationService;
  tools: PgToolsService;
  maintenanceDatabase: string;
  backupDir: string;
};

/**
 * Test hook: TOPSTEEL_MOVE_PAUSE_AT=<step> stops the move once that step's work is done and before
 * the journal records it (the worst moment for a kill -9), so fault tests can kill it there.
 */
const PAUSE_AT = process.env.TOPSTEEL_MOVE_PAUSE_AT;

/** One move, step by step, with the journal (AUTH session) recording where it stands. */
export class MoveExecution {
  readonly report: MoveReport;
  private readonly journal: JournalRepository;
  private readonly moves: MoveJournal;

  constructor(
    private readonly dependencies: MoveDependencies,
    auth: Client,
    private readonly request: MoveRequest,
    private state: MoveState,
  ) {
    this.journal = new JournalRepository(auth);
    this.moves = new MoveJournal(auth);
    this.report = {
      societe: state.code,
      database: state.database,
      from: state.fromServer,
      to: state.toServer,
      outcome: 'moved',
      resumedInterruptedMove: false,
      bytes: 0,
      rows: 0,
      tables: [],
      unavailableMs: null,
      dump: null,
      steps: [],
      durationMs: 0,
    };
  }

  get source(): DatabaseLocation {
    return { database: this.state.database, server: this.state.fromServer };
  }

  get target(): DatabaseLocation {
    return { database: this.state.database, server: this.state.toServer };
  }

  /** Steps 1-4: mark and fence, copy, verify, switch. Anything failing before the switch is undone. */
  async runUntilSwitch(): Promise<void> {
    try {
      await this.timed('mark', () => this.mark());
      const tables = await this.timed('copy', () => this.copy());
      await this.timed('verify', () => this.verify(tables));
      await this.pause('switched');
      this.request.lock.assertHeld();
      this.report.unavailableMs = await this.timed('switch', () =>
        this.moves.switchRegistry(this.state, this.request.run.runId),
      );
      this.state = { ...this.state, step: 'switched' };
      this.request.run.info(`→ société ${this.state.code} now served from server ${this.state.toServer}`);
    } catch (error) {
      await this.undo(error);
      throw error;
    }
  }

  /**
   * Steps 5-7 after the commit point: dump the old database, drop it, forget the move. A signal stops
   * it after the current step (a dump cut short is not kept as done); the rerun finishes.
   */
  async finish(): Promise<void> {
    try {
      await this.finishSteps();
    } catch (error) {
      const signal = this.request.run.shutdown.requested;
      if (signal && !(error instanceof InterruptedException)) throw new InterruptedException(signal);
      throw error;
    }
  }

  private async finishSteps(): Promise<void> {
    const { run } = this.request;
    if (this.state.step === 'switched') {
      run.shutdown.throwIfRequested();
      const dump = await this.timed('dump', () => this.dump());
      await this.pause('dumped');
      await this.moves.setStep(this.state.societeId, 'dumped', dump?.path);
      this.state = { ...this.state, step: 'dumped' };
    }
    if (this.state.step === 'dumped') {
      run.shutdown.throwIfRequested();
      this.request.lock.assertHeld();
      await this.timed('drop', () => this.dependencies.admin.drop(this.source, { requireOwnership: false }));
      await this.pause('dropped');
      await this.moves.setStep(this.state.societeId, 'dropped');
    }
    await this.moves.forget(this.state.societeId);
  }

  private async mark(): Promise<void> {
    const { connections, maintenanceDatabase } = this.dependencies;
    this.request.lock.assertHeld();
    await this.moves.begin(this.state);
    await fenceSource(connections, this.source, maintenanceDatabase);
    this.report.bytes = await connections.withClient(
      this.source,
      async (client) => {
        const size = await client.query<{ bytes: string }>(
          'SELECT pg_database_size(current_database())::text AS bytes',
        );
        return Number(size.rows[0].bytes);
      },
      { applicationName: 'topsteel-move-read' },
    );
    this.request.run.info(
      `→ société ${this.state.code} marked as moving; writes on ${this.state.database} blocked`,
    );
    await this.pause('marked');
  }

  private async copy(): Promise<MovedTable[]> {
    const { admin, schemaMigrations, connections } = this.dependencies;
    const { run, lock, jobs } = this.request;
    await this.moves.setStep(this.state.societeId, 'copying');
    await this.dropOwnTarget();
    const encoding = await this.sourceFacts();
    lock.assertHeld();
    run.info(`→ creating ${this.state.database} on server ${this.state.toServer}`);
    await admin.create(this.target, {
      ...encoding,
      note: moveMarkerNote(this.state.code, this.state.moveId),
    });
    await schemaMigrations.run(this.target, 'tenant');
    const sourceTables = await connections.withClient(this.source, listTables, {
      applicationName: 'topsteel-move-read',
    });
    const targetTables = await connections.withClient(this.target, listTables, {
      applicationName: 'topsteel-move-read',
    });
    assertSameSchema(sourceTables, targetTables, this.state.database);
    run.info(`→ copying ${sourceTables.length} tables`);
    const copied = await copyTenantDatabase(
      {
        connections,
        journal: this.journal,
        source: this.source,
        target: this.target,
        societeId: this.state.societeId,
        jobs,
        run,
        lock,
      },
      sourceTables,
    );
    this.report.rows = copied.reduce((sum, table) => sum + table.rows, 0);
    await this.pause('copied');
    await this.moves.setStep(this.state.societeId, 'copied');
    return sourceTables;
  }

  private async verify(tables: MovedTable[]): Promise<void> {
    this.request.run.info('→ verifying counts and checksums on both servers');
    const verified = await verifyMove(this.dependencies.connections, this.source, this.target, tables);
    this.report.tables = verified.map(({ table, rows, checksum }) => ({ table, rows, checksum }));
    await this.pause('verified');
    await this.moves.setStep(this.state.societeId, 'verified');
  }

  private async dump(): Promise<MoveReport['dump']> {
    if (!(await this.dependencies.admin.exists(this.source))) return null;
    this.request.run.info(`→ dumping the old ${this.state.database} from server ${this.state.fromServer}`);
    const dump = await dumpOldDatabase(
      this.dependencies,
      this.source,
      this.state.code,
      this.request.run.shutdown.signal,
    );
    this.report.dump = dump;
    return dump;
  }

  /** Encoding and locale of the source, so the copy compares and sorts the same way. */
  private async sourceFacts(): Promise<{ encoding: string; collate: string; ctype: string }> {
    return this.dependencies.connections.withClient(
      this.source,
      async (client) => {
        const result = await client.query<{ encoding: string; collate: string; ctype: string }>(
          `SELECT pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype
           FROM pg_database WHERE datname = current_database()`,
        );
        return result.rows[0];
      },
      { applicationName: 'topsteel-move-read' },
    );
  }

  /** A target left by an interrupted run of this move is dropped; any other database there is refused. */
  private async dropOwnTarget(): Promise<void> {
    const { admin } = this.dependencies;
    if (!(await admin.exists(this.target))) return;
    if (!createdByMove(await admin.comment(this.target), this.state.moveId)) {
      throw new MoveException(
        MoveExceptionCode.TargetExists,
        `the database "${this.state.database}" already exists on server ${this.state.toServer}`,
        { database: this.state.database, server: this.state.toServer },
      );
    }
    await admin.drop(this.target, { requireOwnership: true });
  }

  /** Before the switch: the copy goes, the source opens for writing again, the app serves it again. */
  async undo(cause?: unknown): Promise<void> {
    const { admin, connections, maintenanceDatabase } = this.dependencies;
    try {
      if (await this.isOwnLeftover()) await admin.drop(this.target, { requireOwnership: false });
      await this.journal.forgetDeferredConstraints(this.state.database);
      await unfenceSource(connections, this.source, maintenanceDatabase);
      this.report.unavailableMs = await this.moves.abandon(this.state.societeId);
      this.request.run.info(
        `→ move undone: société ${this.state.code} stays on server ${this.state.fromServer}`,
      );
    } catch (undoError) {
      if (cause === undefined) throw undoError;
      const reason = undoError instanceof Error ? undoError.message : String(undoError);
      this.request.run.info(`undoing the move failed too (${reason}); run the same move again to undo it`);
    }
  }

  /**
   * The target is this move's: it carries the move's marker, or (a kill -9 between CREATE DATABASE and
   * COMMENT, journal at `copying`) it is unmarked and empty, so dropping it cannot lose anything.
   */
  private async isOwnLeftover(): Promise<boolean> {
    const { admin } = this.dependencies;
    if (!(await admin.exists(this.target))) return false;
    const comment = await admin.comment(this.target);
    if (createdByMove(comment, this.state.moveId)) return true;
    return this.state.step === 'copying' && comment === null && (await admin.isEmpty(this.target));
  }

  private async timed<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await this.request.run.step(`move ${step}`, work);
    this.report.steps.push({ step, durationMs: Date.now() - started });
    return result;
  }

  private async pause(step: MoveStep): Promise<void> {
    if (PAUSE_AT !== step) {
      this.request.run.shutdown.throwIfRequested();
      return;
    }
    this.request.run.info(`paused at ${step} (TOPSTEEL_MOVE_PAUSE_AT)`);
    const signal = this.request.run.shutdown.signal;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    throw new InterruptedException(this.request.run.shutdown.requested ?? 'SIGTERM');
  }
}
