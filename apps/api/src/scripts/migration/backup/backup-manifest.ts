export const MANIFEST_FILE = 'manifest.json';

export type DatabaseRole = 'monolith' | 'auth' | 'shared' | 'tenant';

export type TableFingerprint = { rows: number; checksum: string };

/** Where a sequence stands (bigint values as text, as PostgreSQL prints them). */
export type SequenceState = { lastValue: string | null; isCalled: boolean; increment: string };

/**
 * The structure of a database, read from its catalogue in the dump's snapshot: `objects` maps each
 * object (`constraint public.ligne_devis.FK_ligne_devis_devis`, `column public.users.role`, …) to
 * its definition as PostgreSQL prints it (long ones as `md5:…`) and the md5 of its canonical form
 * (what comparisons use), `digest` sums them up, and `sequences` says where each sequence stands.
 */
export type SchemaFingerprint = {
  digest: string;
  objects: Record<string, { definition: string; canonical: string }>;
  sequences: Record<string, SequenceState>;
};

/** What a database holds: its tables' rows and its structure. */
export type DatabaseFingerprint = { tables: Record<string, TableFingerprint>; schema: SchemaFingerprint };

export type BackupDatabaseEntry = {
  database: string;
  role: DatabaseRole;
  /**
   * The TENANT_SERVERS name of the server it was dumped from (`default` is DB_HOST:DB_PORT), so a
   * restore knows where the database lived; null for a tenant recorded with an explicit host before
   * servers were named. Absent from manifests written before it existed: those are all `default`
   * except such tenants.
   */
  server?: string | null;
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
  /**
   * The structure in the same snapshot. Absent from manifests written before it existed: for those
   * only the tables' rows can tell whether a database still matches its backup.
   */
  schema?: SchemaFingerprint;
  /**
   * The dump snapshot's horizon (pg_snapshot_xmin, an xid8 as text): db:migrate proves with it,
   * in one scan without checksums, that the monolith still holds exactly the rows counted above
   * (snapshot/snapshot-horizon.ts). Absent from older manifests: those are compared checksum by checksum.
   */
  horizon?: string;
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
