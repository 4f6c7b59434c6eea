import { Client } from 'pg';
import { quoteLiteral, quoteQualified } from '../../../common/identifiers/identifier';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { CopyTask } from '../plan/plan-resolver';
import {
  deleteOneStatement,
  deleteStatement,
  derivedRefreshStatement,
  insertStatement,
  Statement,
  TextRow,
  updateOneStatement,
  updateStatement,
} from './apply-sql';
import { canInline, inlineParameters } from './batch-sql';
import { ChangedKeys } from './changed-keys';
import { lsnAfter } from './lsn';

/** Where each target database stands: written in the same transaction as the changes it covers. */
const POSITION_DDL = `CREATE SCHEMA IF NOT EXISTS topsteel_online;
CREATE TABLE IF NOT EXISTS topsteel_online.applied_position (slot text PRIMARY KEY, commit_lsn pg_lsn NOT NULL)`;

export type RelationInfo = { name: string; replicaIdentity: string; keyColumns: string[] };

export type DecodedChange =
  | { kind: 'insert'; relation: RelationInfo; values: TextRow }
  | { kind: 'update'; relation: RelationInfo; key: TextRow | null; old: TextRow | null; values: TextRow }
  | { kind: 'delete'; relation: RelationInfo; key: TextRow | null; old: TextRow | null }
  | { kind: 'truncate'; relations: RelationInfo[]; cascade: boolean };

type Run =
  | { kind: 'insert'; task: CopyTask; rows: TextRow[] }
  | {
      kind: 'update';
      task: CopyTask;
      key: string[];
      changed: string[];
      rows: { key: TextRow; values: TextRow }[];
      seen: Set<string>;
    }
  | { kind: 'delete'; task: CopyTask; key: string[]; rows: TextRow[] };

const RUN_LIMIT = 1000;

/** Statements waiting for a target are sent once they hold this much SQL (a large source transaction). */
const PENDING_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Fault injection for the specs only: kill -9 this process right after the first target committed
 * a batch that spans several targets, before the others commit.
 */
const CRASH_BETWEEN_COMMITS = process.env.TOPSTEEL_FAULT_CRASH_BETWEEN_COMMITS === '1';

/**
 * Fault injection for the specs only (`table.column`): the first insert or update applied to that
 * source table gets a wrong value in that column, as a faulty apply would; the cutover must see it.
 */
const CORRUPT_APPLIED = process.env.TOPSTEEL_FAULT_CORRUPT_APPLIED?.split('.') ?? null;

const pick = (row: TextRow, names: string[]): TextRow =>
  Object.fromEntries(names.map((name) => [name, row[name]]));

/**
 * Applies decoded source transactions to the target databases with the copy's routing and
 * projections. Consecutive changes of one kind on one table become one set-based statement, across
 * source transactions too. A batch of consecutive source transactions is one transaction per target
 * database it touches, which also records there the commit position of the batch's last source
 * transaction, so a restart skips exactly what a target already has. A batch's statements travel to
 * a target together, as one multi-statement query, when it commits.
 */
export class ChangeApplier {
  private readonly open = new Set<SchemaKind>();
  private readonly pending = new Map<SchemaKind, { statements: string[]; bytes: number }>();
  private skip = new Set<SchemaKind>();
  private commitLsn: string | null = null;
  private batchLsn: string | null = null;
  /** The run under way per target database: order matters within a database, not across them. */
  private readonly runs = new Map<SchemaKind, Run>();
  private transactionChanges = 0;
  readonly touchedTables = new Set<string>();
  /** The rows of those tables that changed, for the cutover's check (tracked from the decoded changes, not the statements). */
  readonly changedKeys = new ChangedKeys();
  private corrupted = false;

  private constructor(
    private readonly targets: Map<SchemaKind, Client>,
    private readonly positions: Map<SchemaKind, string>,
    private readonly tasks: Map<string, CopyTask>,
    private readonly slot: string,
    private readonly societeId: string,
  ) {}

  static async connect(
    connections: PostgresConnectionFactory,
    locations: Record<SchemaKind, DatabaseLocation>,
    context: { tasks: CopyTask[]; slot: string; societeId: string },
  ): Promise<ChangeApplier> {
    const targets = new Map<SchemaKind, Client>();
    const positions = new Map<SchemaKind, string>();
    try {
      for (const kind of ['auth', 'shared', 'tenant'] as const) {
        const client = await connections.connect(locations[kind], {
          applicationName: 'topsteel-online-apply',
        });
        targets.set(kind, client);
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        // Inlined values are quoted literals: a backslash in them must stay a backslash.
        await client.query('SET standard_conforming_strings = on');
        // As PostgreSQL's own apply worker: the monolith already checked the foreign keys and its
        // cascades arrive as changes of their own, so the targets' triggers (a cascade seq-scanning
        // an unindexed child per deleted row) must not run again. Needs superuser; else they run.
        await client.query('SET session_replication_role = replica').catch(() => undefined);
        await client.query(POSITION_DDL);
        const found = await client.query<{ lsn: string }>(
          'SELECT commit_lsn::text AS lsn FROM topsteel_online.applied_position WHERE slot = $1',
          [context.slot],
        );
        if (found.rows[0]) positions.set(kind, found.rows[0].lsn);
      }
    } catch (error) {
      await Promise.all([...targets.values()].map((client) => client.end().catch(() => undefined)));
      throw error;
    }
    return new ChangeApplier(
      targets,
      positions,
      new Map(context.tasks.map((task) => [task.source, task])),
      context.slot,
      context.societeId,
    );
  }

  /** A source transaction starts; a target that already holds it (an earlier run applied it) skips it. */
  begin(commitLsn: string): void {
    this.commitLsn = commitLsn;
    this.transactionChanges = 0;
    this.skip = new Set(
      [...this.targets.keys()].filter((kind) => !lsnAfter(commitLsn, this.positions.get(kind) ?? null)),
    );
  }

  async change(change: DecodedChange): Promise<void> {
    if (change.kind === 'truncate') return this.truncate(change);
    const task = this.taskOf(change.relation);
    this.touchedTables.add(task.source);
    this.trackKeys(task, change);
    this.transactionChanges++;
    if (this.skip.has(task.database)) return;
    if (change.kind !== 'delete') change = this.corruptForSpecs(task, change);
    if (change.kind === 'insert') {
      const run = this.runs.get(task.database);
      if (run?.kind !== 'insert' || run.task !== task)
        await this.startRun({ kind: 'insert', task, rows: [] });
      (this.runs.get(task.database) as Extract<Run, { kind: 'insert' }>).rows.push(change.values);
    } else if (change.relation.replicaIdentity === 'full') {
      // No key: rows are matched on their whole old image, one at a time (duplicates are legal there).
      await this.flush(task.database);
      const statement =
        change.kind === 'update'
          ? updateOneStatement(task, change.old ?? {}, change.values)
          : deleteOneStatement(task, change.old ?? {});
      await this.execute(task.database, statement.text, statement.values);
    } else if (change.kind === 'update') await this.update(task, change);
    else await this.remove(task, change);
    if ((this.runs.get(task.database)?.rows.length ?? 0) >= RUN_LIMIT) await this.flush(task.database);
  }

  /** The old and the new key of the row, as the monolith logged them. */
  private trackKeys(task: CopyTask, change: Exclude<DecodedChange, { kind: 'truncate' }>): void {
    const { keyColumns, replicaIdentity } = change.relation;
    if (replicaIdentity === 'full' || replicaIdentity === 'nothing')
      return this.changedKeys.whole(task.source);
    // An update logs the old key only when the key changed; a delete always logs it.
    if (change.kind === 'delete')
      this.changedKeys.add(task.source, keyColumns, change.key ?? change.old ?? {});
    else {
      if (change.kind === 'update' && (change.key ?? change.old))
        this.changedKeys.add(task.source, keyColumns, (change.key ?? change.old) as TextRow);
      this.changedKeys.add(task.source, keyColumns, change.values);
    }
  }

  private corruptForSpecs<T extends Extract<DecodedChange, { values: TextRow }>>(
    task: CopyTask,
    change: T,
  ): T {
    if (!CORRUPT_APPLIED || this.corrupted || CORRUPT_APPLIED[0] !== task.source) return change;
    const value = change.values[CORRUPT_APPLIED[1]];
    if (typeof value !== 'string') return change;
    this.corrupted = true;
    return { ...change, values: { ...change.values, [CORRUPT_APPLIED[1]]: `${value} (corrupted)` } };
  }

  private async update(task: CopyTask, change: Extract<DecodedChange, { kind: 'update' }>): Promise<void> {
    const key = change.relation.keyColumns;
    const keyRow = pick(change.key ?? change.values, key);
    const changed = task.columns
      .map((column) => column.name)
      .filter((name) => change.values[name] !== undefined);
    const identity = JSON.stringify(key.map((name) => keyRow[name]));
    const run = this.runs.get(task.database);
    // The same row twice in one statement would be updated once: a second change to it starts a new run.
    if (
      run?.kind !== 'update' ||
      run.task !== task ||
      run.changed.join('\u0000') !== changed.join('\u0000') ||
      run.seen.has(identity)
    )
      await this.startRun({ kind: 'update', task, key, changed, rows: [], seen: new Set() });
    const current = this.runs.get(task.database) as Extract<Run, { kind: 'update' }>;
    current.rows.push({ key: keyRow, values: change.values });
    current.seen.add(JSON.stringify(key.map((name) => change.values[name] ?? keyRow[name])));
    current.seen.add(identity);
  }

  private async remove(task: CopyTask, change: Extract<DecodedChange, { kind: 'delete' }>): Promise<void> {
    const key = change.relation.keyColumns;
    const run = this.runs.get(task.database);
    if (run?.kind !== 'delete' || run.task !== task)
      await this.startRun({ kind: 'delete', task, key, rows: [] });
    (this.runs.get(task.database) as Extract<Run, { kind: 'delete' }>).rows.push(
      pick(change.key ?? change.old ?? {}, key),
    );
  }

  /** TRUNCATE is applied, never ignored: the same tables, in the same source transaction. */
  private async truncate(change: Extract<DecodedChange, { kind: 'truncate' }>): Promise<void> {
    await this.flushAll();
    const byDatabase = new Map<SchemaKind, string[]>();
    for (const relation of change.relations) {
      const task = this.taskOf(relation);
      this.touchedTables.add(task.source);
      this.changedKeys.whole(task.source);
      this.transactionChanges++;
      if (this.skip.has(task.database)) continue;
      byDatabase.set(task.database, [
        ...(byDatabase.get(task.database) ?? []),
        quoteQualified('public', task.target),
      ]);
    }
    for (const [database, tables] of byDatabase)
      await this.execute(database, `TRUNCATE ${tables.join(', ')}${change.cascade ? ' CASCADE' : ''}`, []);
  }

  /** The source transaction ends: it is part of the batch, committed with it. Returns the changes it held. */
  endTransaction(): number {
    this.batchLsn = this.commitLsn;
    return this.transactionChanges;
  }

  /**
   * Closes the batch: every target it touched gets, after its statements, the position of the
   * batch's last source transaction and COMMIT, in the same target transaction. Only call it between
   * source transactions. Nothing is committed until the returned commit() runs; the next batch can
   * accumulate meanwhile: each target's session runs its queries in order, so whatever the next
   * batch sends to a target goes after this batch's COMMIT there.
   */
  async sealBatch(): Promise<{ commit(): Promise<void> }> {
    await this.flushAll();
    const lsn = this.batchLsn as string;
    const touched = [...this.open];
    const sealed = new Map<SchemaKind, string>();
    for (const kind of touched) {
      this.push(
        kind,
        `INSERT INTO topsteel_online.applied_position (slot, commit_lsn) VALUES (${quoteLiteral(this.slot)}, ${quoteLiteral(lsn)}::pg_lsn)
         ON CONFLICT (slot) DO UPDATE SET commit_lsn = EXCLUDED.commit_lsn`,
      );
      this.push(kind, 'COMMIT');
      sealed.set(kind, (this.pending.get(kind)?.statements ?? []).join(';\n'));
      this.pending.delete(kind);
    }
    this.open.clear();
    return { commit: () => this.commitSealed(sealed, lsn) };
  }

  /**
   * The targets commit side by side: whichever subset committed before a crash, each one's
   * position says what it holds.
   */
  private async commitSealed(sealed: Map<SchemaKind, string>, lsn: string): Promise<void> {
    const touched = [...sealed.keys()];
    const commitOne = (kind: SchemaKind) =>
      (this.targets.get(kind) as Client).query(sealed.get(kind) as string);
    if (CRASH_BETWEEN_COMMITS && touched.length > 1) {
      await commitOne(touched[0]);
      process.kill(process.pid, 'SIGKILL');
    }
    await Promise.all(touched.map(commitOne));
    for (const kind of touched) this.positions.set(kind, lsn);
  }

  async close(): Promise<void> {
    for (const kind of this.open)
      await this.targets
        .get(kind)
        ?.query('ROLLBACK')
        .catch(() => undefined);
    this.open.clear();
    this.pending.clear();
    this.runs.clear();
    await Promise.all([...this.targets.values()].map((client) => client.end().catch(() => undefined)));
  }

  private taskOf(relation: RelationInfo): CopyTask {
    const task = this.tasks.get(relation.name);
    if (!task) throw new Error(`a change on ${relation.name}, which the plan does not copy`);
    return task;
  }

  private async startRun(run: Run): Promise<void> {
    await this.flush(run.task.database);
    this.runs.set(run.task.database, run);
  }

  private async flushAll(): Promise<void> {
    for (const database of [...this.runs.keys()]) await this.flush(database);
  }

  private async flush(database: SchemaKind): Promise<void> {
    const run = this.runs.get(database);
    this.runs.delete(database);
    if (!run || run.rows.length === 0) return;
    const statements: (Statement | null)[] =
      run.kind === 'insert'
        ? [insertStatement(run.task, this.societeId, run.rows)]
        : run.kind === 'delete'
          ? [deleteStatement(run.task, run.key, run.rows)]
          : [
              run.changed.length > 0 ? updateStatement(run.task, run.key, run.changed, run.rows) : null,
              derivedRefreshStatement(
                run.task,
                run.key,
                run.rows.map((row) => ({
                  ...row.key,
                  ...pick(
                    row.values,
                    run.key.filter((name) => row.values[name] !== undefined),
                  ),
                })),
              ),
            ];
    for (const statement of statements)
      if (statement) await this.execute(run.task.database, statement.text, statement.values);
  }

  private async execute(database: SchemaKind, text: string, values: unknown[]): Promise<void> {
    const parameters = values as (string | null | (string | null)[])[];
    if (canInline(text)) {
      const pending = this.push(database, inlineParameters(text, parameters));
      if (pending.bytes >= PENDING_LIMIT_BYTES) await this.send(database);
      return;
    }
    this.push(database, null);
    await this.send(database);
    await (this.targets.get(database) as Client).query(text, values);
  }

  /** Adds a statement to what waits for the target's open transaction, opening it (BEGIN) first. */
  private push(database: SchemaKind, statement: string | null): { statements: string[]; bytes: number } {
    let pending = this.pending.get(database);
    if (!pending) this.pending.set(database, (pending = { statements: [], bytes: 0 }));
    if (!this.open.has(database)) {
      pending.statements.push('BEGIN');
      this.open.add(database);
    }
    if (statement !== null) {
      pending.statements.push(statement);
      pending.bytes += statement.length;
    }
    return pending;
  }

  private async send(database: SchemaKind): Promise<void> {
    const pending = this.pending.get(database);
    if (!pending || pending.statements.length === 0) return;
    this.pending.delete(database);
    await (this.targets.get(database) as Client).query(pending.statements.join(';\n'));
  }
}
