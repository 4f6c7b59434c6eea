/**
 * The journal lives in AUTH, in its own schema so it never mixes with migrated tables. It records
 * which databases the tool created (rollback drops only those), the split's progress table by
 * table (resume), the constraints set aside during the load, the tables being loaded in block
 * ranges (with the indexes set aside for them), and the content of the new
 * databases at completion (rollback compares against it to find data written after the cutover).
 */
export const JOURNAL_SCHEMA = 'migration_journal';

export const JOURNAL_DDL = `
CREATE SCHEMA IF NOT EXISTS migration_journal;
CREATE TABLE IF NOT EXISTS migration_journal.runs (
  run_id uuid PRIMARY KEY,
  command text NOT NULL,
  host text,
  pid integer,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  status text NOT NULL DEFAULT 'running',
  exit_code integer,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS migration_journal.databases (
  name text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('auth', 'shared', 'tenant')),
  societe_code text,
  host text,
  port integer,
  created_by_run uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS migration_journal.split (
  id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  status text NOT NULL CHECK (status IN ('in_progress', 'verifying', 'complete', 'failed')),
  source_database text NOT NULL,
  backup_path text,
  backup_manifest_sha256 text,
  societe_id uuid,
  run_id uuid NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  failure jsonb,
  excluded_tables text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS migration_journal.split_tables (
  target_database text NOT NULL,
  target_table text NOT NULL,
  source_table text NOT NULL,
  status text NOT NULL CHECK (status IN ('copying', 'copied', 'verified', 'failed')),
  rows bigint,
  checksum text,
  checksum_columns text[],
  loaded_checksum text,
  loaded_xids text[],
  copied_at timestamptz,
  verified_at timestamptz,
  run_id uuid,
  PRIMARY KEY (target_database, target_table)
);
CREATE TABLE IF NOT EXISTS migration_journal.deferred_constraints (
  target_database text NOT NULL,
  table_name text NOT NULL,
  constraint_name text NOT NULL,
  definition text NOT NULL,
  PRIMARY KEY (target_database, table_name, constraint_name)
);
CREATE TABLE IF NOT EXISTS migration_journal.range_loads (
  target_database text NOT NULL,
  target_table text NOT NULL,
  structures jsonb NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target_database, target_table)
);
CREATE TABLE IF NOT EXISTS migration_journal.reference_baselines (
  reference text PRIMARY KEY,
  source_dangling bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS migration_journal.database_snapshots (
  database text NOT NULL,
  table_name text NOT NULL,
  rows bigint NOT NULL,
  checksum text NOT NULL,
  taken_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (database, table_name)
);
CREATE TABLE IF NOT EXISTS migration_journal.online_split (
  id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  phase text NOT NULL CHECK (phase IN ('copying', 'following', 'cutover', 'done')),
  slot_name text NOT NULL,
  publication_name text NOT NULL,
  consistent_lsn pg_lsn,
  applied_lsn pg_lsn,
  replica_identities text[] NOT NULL DEFAULT '{}',
  changed_tables text[] NOT NULL DEFAULT '{}',
  changes_applied bigint NOT NULL DEFAULT 0,
  cutover_attempts integer NOT NULL DEFAULT 0,
  cutover_requested_at timestamptz,
  cutover_outcome text,
  pause_ms integer,
  lag_ms bigint,
  run_id uuid,
  reverse_sync jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS migration_journal.societe_moves (
  societe_id uuid PRIMARY KEY,
  move_id uuid NOT NULL,
  code text NOT NULL,
  database text NOT NULL,
  from_server text NOT NULL,
  to_server text NOT NULL,
  step text NOT NULL CHECK (step IN ('marked', 'copying', 'copied', 'verified', 'switched', 'dumped', 'dropped')),
  dump_path text,
  details jsonb NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Columns added to the journal after its first release. A journal written before them gets them
 * (ADD COLUMN IF NOT EXISTS) before anything writes to it; a journal that has them all is current.
 */
export const JOURNAL_ADDED_COLUMNS = [
  { table: 'split_tables', column: 'checksum_columns', definition: 'text[]' },
  { table: 'split', column: 'excluded_tables', definition: "text[] NOT NULL DEFAULT '{}'" },
  { table: 'split_tables', column: 'loaded_checksum', definition: 'text' },
  // The transaction ids (xid8, as text) that wrote a loaded table's rows: the cheaper proof that replaced loaded_checksum.
  { table: 'split_tables', column: 'loaded_xids', definition: 'text[]' },
  // The online split's table came later: a journal without it gets it from JOURNAL_DDL.
  { table: 'online_split', column: 'cutover_outcome', definition: 'text' },
  // The TENANT_SERVERS name of a tenant database, so rollback finds it after its server moved.
  { table: 'databases', column: 'server', definition: 'text' },
  // The reverse sync after an online cutover (issue 18): its links, identities and shadows.
  { table: 'online_split', column: 'reverse_sync', definition: 'jsonb' },
  // db:societe:move (issue 16): one row per société being moved; JOURNAL_DDL creates the table.
  { table: 'societe_moves', column: 'step', definition: 'text' },
  // Tables loaded in block ranges by several workers (issue 20): a journal without it gets it from JOURNAL_DDL.
  { table: 'range_loads', column: 'structures', definition: "jsonb NOT NULL DEFAULT '[]'" },
] as const;

export const JOURNAL_UPGRADE_DDL = JOURNAL_ADDED_COLUMNS.map(
  ({ table, column, definition }) =>
    `ALTER TABLE migration_journal.${table} ADD COLUMN IF NOT EXISTS ${column} ${definition};`,
).join('\n');
