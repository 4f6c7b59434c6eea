import { SchemaKind } from '../../../database/migrations/migration-sets';

export type CreatedDatabase = {
  name: string;
  kind: SchemaKind;
  societeCode: string | null;
  host: string | null;
  port: number | null;
  /** The TENANT_SERVERS name (tenants created since several servers exist); null before. */
  server?: string | null;
  createdByRun: string | null;
  createdAt: string;
};

export type SplitStatus = 'in_progress' | 'verifying' | 'complete' | 'failed';

export type SplitState = {
  status: SplitStatus;
  sourceDatabase: string;
  backupPath: string | null;
  backupManifestSha256: string | null;
  societeId: string | null;
  runId: string;
  startedAt: string;
  completedAt: string | null;
  failure: Record<string, unknown> | null;
  /** Tables the operator left behind with --exclude-table: db:verify does not expect them either. */
  excludedTables: string[];
};

export type TableCopyStatus = 'copying' | 'copied' | 'verified' | 'failed';

export type TableCopyState = {
  sourceTable: string;
  targetDatabase: string;
  targetTable: string;
  status: TableCopyStatus;
  rows: number | null;
  checksum: string | null;
  /** The target columns the checksum covers, in order (what `db:verify` recomputes when the monolith is gone). */
  checksumColumns?: string[] | null;
  /**
   * The target's checksum over `checksumColumns` when the tool committed its load: a rerun (or a
   * rollback) that finds anything else knows someone wrote into the table since.
   */
  loadedChecksum?: string | null;
  /**
   * The transactions (xid8, as text) that wrote the table's rows in the tool's last committed load
   * (one per range of a range load): what replaced loadedChecksum (journals written before keep theirs).
   * The table is as the tool left it while it holds `rows` rows, none written by another transaction.
   */
  loadedXids?: string[] | null;
  copiedAt: string | null;
  verifiedAt: string | null;
};

export type DeferredConstraint = {
  targetDatabase: string;
  tableName: string;
  constraintName: string;
  definition: string;
};

/** An index or key of a target table, as statements: set aside while the table loads, rebuilt after. */
export type SetAsideStructure = { name: string; drop: string; create: string };

/**
 * A target table being loaded in block ranges by several sessions: its rows arrive in several
 * commits, so until the load finishes it holds a part of the monolith's rows that the tool wrote,
 * and its indexes and keys are only in the journal.
 */
export type RangeLoad = {
  targetDatabase: string;
  targetTable: string;
  structures: SetAsideStructure[];
};

/** Per-table counts and checksums of a new database, taken when the split completes. */
export type DatabaseSnapshot = {
  database: string;
  tables: Record<string, { rows: number; checksum: string }>;
  takenAt: string;
};
