export const MANIFEST_FILE = 'manifest.json';

export type DatabaseRole = 'monolith' | 'auth' | 'shared' | 'tenant';

export type TableFingerprint = { rows: number; checksum: string };

export type BackupDatabaseEntry = {
  database: string;
  role: DatabaseRole;
  file: string;
  bytes: number;
  sha256: string;
  serverVersion: string;
  pgDumpVersion: string;
  /** The database's encoding and collation, so a restore recreates it like the original. */
  encoding?: string;
  collate?: string;
  ctype?: string;
  /**
   * Database-level settings (ALTER DATABASE ... SET) and grants: pg_restore into a new database does
   * not carry them, so a rollback tells the operator what to reapply.
   */
  settings?: string[];
  acl?: string | null;
  /** Per-table counts and checksums computed in the same snapshot as the dump; keys are schema.table. */
  tables: Record<string, TableFingerprint>;
};

/** manifest.json of a backup folder: what was dumped, how to check it, and what it contains. */
export type BackupManifest = {
  formatVersion: 1;
  tool: 'topsteel-migration';
  kind: 'pre-migration' | 'rollback';
  createdAt: string;
  runId: string;
  databases: BackupDatabaseEntry[];
};

export type BackupSummary = {
  name: string;
  path: string;
  kind: BackupManifest['kind'];
  createdAt: string;
  databases: string[];
  bytes: number;
};
