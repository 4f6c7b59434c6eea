import { Client } from 'pg';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { JOURNAL_ADDED_COLUMNS, JOURNAL_DDL, JOURNAL_UPGRADE_DDL } from './journal.schema';
import {
  CreatedDatabase,
  DatabaseSnapshot,
  DeferredConstraint,
  RangeLoad,
  SplitState,
  SplitStatus,
  TableCopyState,
  TableCopyStatus,
} from './journal.types';

type Row = Record<string, unknown>;
const iso = (value: unknown): string | null =>
  value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : null;

/** Reads and writes the journal through one open AUTH connection (so callers control transactions). */
export class JournalRepository {
  constructor(readonly client: Client) {}

  /** Idempotent; concurrent callers are serialised, since CREATE ... IF NOT EXISTS races on the catalogue. */
  async ensureSchema(): Promise<void> {
    if (await this.isCurrent()) return;
    await this.client.query('BEGIN');
    try {
      await this.client.query("SELECT pg_advisory_xact_lock(hashtext('topsteel-migration-journal'))");
      await this.client.query(JOURNAL_DDL);
      // A journal written by an earlier version of the tool gets the columns added since.
      await this.client.query(JOURNAL_UPGRADE_DDL);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async isCurrent(): Promise<boolean> {
    const result = await this.client.query<{ present: number }>(
      `SELECT count(*)::int AS present FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'migration_journal' AND NOT a.attisdropped
         AND (c.relname, a.attname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [JOURNAL_ADDED_COLUMNS.map((added) => added.table), JOURNAL_ADDED_COLUMNS.map((added) => added.column)],
    );
    return result.rows[0].present === JOURNAL_ADDED_COLUMNS.length;
  }

  async hasSchema(): Promise<boolean> {
    const result = await this.client.query<{ present: boolean }>(
      "SELECT to_regclass('migration_journal.databases') IS NOT NULL AS present",
    );
    return result.rows[0].present;
  }

  async startRun(runId: string, command: string, host: string, pid: number): Promise<void> {
    await this.client.query(
      'INSERT INTO migration_journal.runs (run_id, command, host, pid) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO NOTHING',
      [runId, command, host, pid],
    );
  }

  async finishRun(
    runId: string,
    status: string,
    exitCode: number,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.client.query(
      'UPDATE migration_journal.runs SET finished_at = now(), status = $2, exit_code = $3, details = $4 WHERE run_id = $1',
      [runId, status, exitCode, JSON.stringify(details)],
    );
  }

  async recordDatabase(database: Omit<CreatedDatabase, 'createdAt'>): Promise<void> {
    await this.client.query(
      `INSERT INTO migration_journal.databases (name, kind, societe_code, host, port, created_by_run, server)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`,
      [
        database.name,
        database.kind,
        database.societeCode,
        database.host,
        database.port,
        database.createdByRun,
        database.server ?? null,
      ],
    );
  }

  async forgetDatabase(name: string): Promise<void> {
    await this.client.query('DELETE FROM migration_journal.databases WHERE name = $1', [name]);
  }

  async createdDatabases(): Promise<CreatedDatabase[]> {
    const result = await this.client.query<Row>(
      'SELECT * FROM migration_journal.databases ORDER BY created_at, name',
    );
    return result.rows.map((row) => ({
      name: String(row.name),
      kind: row.kind as SchemaKind,
      societeCode: (row.societe_code as string | null) ?? null,
      host: (row.host as string | null) ?? null,
      port: (row.port as number | null) ?? null,
      server: (row.server as string | null) ?? null,
      createdByRun: (row.created_by_run as string | null) ?? null,
      createdAt: iso(row.created_at) ?? '',
    }));
  }

  async split(): Promise<SplitState | null> {
    const result = await this.client.query<Row>('SELECT * FROM migration_journal.split WHERE id = 1');
    const row = result.rows[0];
    if (!row) return null;
    return {
      status: row.status as SplitStatus,
      sourceDatabase: String(row.source_database),
      backupPath: (row.backup_path as string | null) ?? null,
      backupManifestSha256: (row.backup_manifest_sha256 as string | null) ?? null,
      societeId: (row.societe_id as string | null) ?? null,
      runId: String(row.run_id),
      startedAt: iso(row.started_at) ?? '',
      completedAt: iso(row.completed_at),
      failure: (row.failure as Record<string, unknown> | null) ?? null,
      excludedTables: (row.excluded_tables as string[] | undefined) ?? [],
    };
  }

  async saveSplit(
    state: Pick<SplitState, 'status' | 'sourceDatabase' | 'runId'> & Partial<SplitState>,
  ): Promise<void> {
    await this.client.query(
      `INSERT INTO migration_journal.split (id, status, source_database, backup_path, backup_manifest_sha256, societe_id, run_id, failure, completed_at, excluded_tables)
       VALUES (1, $1, $2, $3, $4, $5, $6, $7, CASE WHEN $1 = 'complete' THEN now() END, COALESCE($8::text[], '{}'))
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, source_database = EXCLUDED.source_database,
         excluded_tables = COALESCE($8::text[], migration_journal.split.excluded_tables),
         backup_path = COALESCE(EXCLUDED.backup_path, migration_journal.split.backup_path),
         backup_manifest_sha256 = COALESCE(EXCLUDED.backup_manifest_sha256, migration_journal.split.backup_manifest_sha256),
         societe_id = COALESCE(EXCLUDED.societe_id, migration_journal.split.societe_id),
         run_id = EXCLUDED.run_id, failure = EXCLUDED.failure, completed_at = EXCLUDED.completed_at`,
      [
        state.status,
        state.sourceDatabase,
        state.backupPath ?? null,
        state.backupManifestSha256 ?? null,
        state.societeId ?? null,
        state.runId,
        state.failure ? JSON.stringify(state.failure) : null,
        state.excludedTables ?? null,
      ],
    );
  }

  async tableStates(): Promise<TableCopyState[]> {
    const result = await this.client.query<Row>(
      'SELECT * FROM migration_journal.split_tables ORDER BY target_database, target_table',
    );
    return result.rows.map((row) => ({
      sourceTable: String(row.source_table),
      targetDatabase: String(row.target_database),
      targetTable: String(row.target_table),
      status: row.status as TableCopyStatus,
      rows: row.rows == null ? null : Number(row.rows),
      checksum: (row.checksum as string | null) ?? null,
      checksumColumns: (row.checksum_columns as string[] | null) ?? null,
      loadedChecksum: (row.loaded_checksum as string | null) ?? null,
      loadedXids: (row.loaded_xids as string[] | null) ?? null,
      copiedAt: iso(row.copied_at),
      verifiedAt: iso(row.verified_at),
    }));
  }

  /**
   * A new load ('copying') forgets the previous load's checksum and xids; the verification keeps them, so that
   * the journal always says what the tool itself last wrote into the table.
   */
  async setTableState(state: Omit<TableCopyState, 'copiedAt' | 'verifiedAt'>, runId: string): Promise<void> {
    await this.client.query(
      `INSERT INTO migration_journal.split_tables (target_database, target_table, source_table, status, rows, checksum, run_id,
         copied_at, verified_at, checksum_columns, loaded_checksum, loaded_xids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $4 IN ('copied', 'verified') THEN now() END,
         CASE WHEN $4 = 'verified' THEN now() END, $8, $9, $10::text[])
       ON CONFLICT (target_database, target_table) DO UPDATE SET status = EXCLUDED.status, source_table = EXCLUDED.source_table,
         rows = EXCLUDED.rows, checksum = EXCLUDED.checksum, run_id = EXCLUDED.run_id, checksum_columns = EXCLUDED.checksum_columns,
         copied_at = CASE WHEN EXCLUDED.status = 'copied' THEN now() ELSE migration_journal.split_tables.copied_at END,
         verified_at = EXCLUDED.verified_at,
         loaded_checksum = CASE WHEN EXCLUDED.status = 'copying' OR EXCLUDED.loaded_xids IS NOT NULL THEN NULL
           ELSE coalesce(EXCLUDED.loaded_checksum, migration_journal.split_tables.loaded_checksum) END,
         loaded_xids = CASE WHEN EXCLUDED.status = 'copying' THEN NULL
           ELSE coalesce(EXCLUDED.loaded_xids, migration_journal.split_tables.loaded_xids) END`,
      [
        state.targetDatabase,
        state.targetTable,
        state.sourceTable,
        state.status,
        state.rows,
        state.checksum,
        runId,
        state.checksumColumns ?? null,
        state.loadedChecksum ?? null,
        state.loadedXids ?? null,
      ],
    );
  }

  /** One statement (one commit) for all of them: a database's keys are recorded together or not at all. */
  async saveDeferredConstraints(constraints: DeferredConstraint[]): Promise<void> {
    if (constraints.length === 0) return;
    await this.client.query(
      `INSERT INTO migration_journal.deferred_constraints (target_database, table_name, constraint_name, definition)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
      [
        constraints.map((constraint) => constraint.targetDatabase),
        constraints.map((constraint) => constraint.tableName),
        constraints.map((constraint) => constraint.constraintName),
        constraints.map((constraint) => constraint.definition),
      ],
    );
  }

  async deferredConstraints(targetDatabase: string): Promise<DeferredConstraint[]> {
    const result = await this.client.query<Row>(
      'SELECT * FROM migration_journal.deferred_constraints WHERE target_database = $1 ORDER BY table_name, constraint_name',
      [targetDatabase],
    );
    return result.rows.map((row) => ({
      targetDatabase: String(row.target_database),
      tableName: String(row.table_name),
      constraintName: String(row.constraint_name),
      definition: String(row.definition),
    }));
  }

  async forgetDeferredConstraints(targetDatabase: string): Promise<void> {
    await this.client.query('DELETE FROM migration_journal.deferred_constraints WHERE target_database = $1', [
      targetDatabase,
    ]);
  }

  /** Recorded before the table is truncated and its structures dropped; kept until it is complete again. */
  async saveRangeLoad(load: RangeLoad): Promise<void> {
    await this.client.query(
      `INSERT INTO migration_journal.range_loads (target_database, target_table, structures) VALUES ($1, $2, $3)
       ON CONFLICT (target_database, target_table) DO UPDATE SET structures = EXCLUDED.structures, started_at = now()`,
      [load.targetDatabase, load.targetTable, JSON.stringify(load.structures)],
    );
  }

  async rangeLoads(): Promise<RangeLoad[]> {
    const result = await this.client.query<Row>(
      'SELECT * FROM migration_journal.range_loads ORDER BY target_database, target_table',
    );
    return result.rows.map((row) => ({
      targetDatabase: String(row.target_database),
      targetTable: String(row.target_table),
      structures: row.structures as RangeLoad['structures'],
    }));
  }

  async forgetRangeLoad(targetDatabase: string, targetTable: string): Promise<void> {
    await this.client.query(
      'DELETE FROM migration_journal.range_loads WHERE target_database = $1 AND target_table = $2',
      [targetDatabase, targetTable],
    );
  }

  async saveReferenceBaselines(baselines: Map<string, number>): Promise<void> {
    for (const [reference, dangling] of baselines) {
      await this.client.query(
        `INSERT INTO migration_journal.reference_baselines (reference, source_dangling) VALUES ($1, $2)
         ON CONFLICT (reference) DO UPDATE SET source_dangling = EXCLUDED.source_dangling`,
        [reference, dangling],
      );
    }
  }

  async referenceBaselines(): Promise<Map<string, number>> {
    const result = await this.client.query<{ reference: string; source_dangling: string }>(
      'SELECT * FROM migration_journal.reference_baselines',
    );
    return new Map(result.rows.map((row) => [row.reference, Number(row.source_dangling)]));
  }

  async saveSnapshot(snapshot: DatabaseSnapshot): Promise<void> {
    await this.client.query('DELETE FROM migration_journal.database_snapshots WHERE database = $1', [
      snapshot.database,
    ]);
    const names = Object.keys(snapshot.tables);
    await this.client.query(
      `INSERT INTO migration_journal.database_snapshots (database, table_name, rows, checksum)
       SELECT $1, name, rows, checksum FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t(name, rows, checksum)`,
      [
        snapshot.database,
        names,
        names.map((name) => snapshot.tables[name].rows),
        names.map((name) => snapshot.tables[name].checksum),
      ],
    );
  }

  async snapshots(): Promise<DatabaseSnapshot[]> {
    const result = await this.client.query<Row>(
      'SELECT * FROM migration_journal.database_snapshots ORDER BY database, table_name',
    );
    const byDatabase = new Map<string, DatabaseSnapshot>();
    for (const row of result.rows) {
      const database = String(row.database);
      const snapshot = byDatabase.get(database) ?? { database, tables: {}, takenAt: iso(row.taken_at) ?? '' };
      snapshot.tables[String(row.table_name)] = { rows: Number(row.rows), checksum: String(row.checksum) };
      byDatabase.set(database, snapshot);
    }
    return [...byDatabase.values()];
  }
}
