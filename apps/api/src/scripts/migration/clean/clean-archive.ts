import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { fsyncPath, hashingTap, sha256File, timestampName } from '../../../common/fs/durable-files';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { rowHash } from '../catalogue/catalogue';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { CleanTarget } from './clean-rules';
import { GraphColumn, GraphTable } from './foreign-key-graph';
import { TransactionRecord } from './transaction-record';

export const CLEAN_MANIFEST_FILE = 'manifest.json';

/** Archive folders are named by their UTC creation time, like backups: 2025-07-14T10-22-33-123Z. */
export const ARCHIVE_NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

export type ArchivedTable = {
  /** schema.name */
  table: string;
  schema: string;
  name: string;
  /** deleted: the rows as they were; modified: the rows before ON DELETE SET NULL changed `setColumns`. */
  action: 'deleted' | 'modified';
  file: string;
  rows: number;
  /** Sum of the tool's row hash over `columns`, computed by PostgreSQL on the archived rows. */
  checksum: string;
  sha256: string;
  bytes: number;
  columns: GraphColumn[];
  primaryKey: string[] | null;
  /** modified: the columns ON DELETE SET NULL emptied, the only ones a restore writes back. */
  setColumns?: string[];
  /** modified: checksum over the primary key and `setColumns` (what a restore must give back). */
  setChecksum?: string;
};

/** The columns a restore of changed rows compares: primary key, then the emptied references. */
export const restoredColumns = (
  table: Pick<ArchivedTable, 'columns' | 'primaryKey' | 'setColumns'>,
): GraphColumn[] =>
  [...(table.primaryKey ?? []), ...(table.setColumns ?? [])].map(
    (name) => table.columns.find((column) => column.name === name) ?? { name, type: 'unknown' },
  );

export type CleanArchiveManifest = {
  formatVersion: 1;
  tool: 'topsteel-migration';
  kind: 'clean';
  createdAt: string;
  runId: string;
  target: CleanTarget;
  database: string;
  rules: {
    name: string;
    description: string;
    selections: { table: string; predicate: string; parameters: unknown[] }[];
  }[];
  /** The db:backup that covered the monolith when the rows were deleted (none on AUTH: this archive is the safety net). */
  backup: { name: string; path: string } | null;
  /**
   * The transaction that deletes the archived rows (its id taken inside it, before COMMIT): a restore
   * asks PostgreSQL whether it committed, because an archive is complete before the delete runs and
   * outlives a clean killed before COMMIT. Absent from archives of earlier versions of the tool.
   */
  transaction?: TransactionRecord;
  /** Deleted tables parents first (the order a restore inserts in), then modified tables. */
  tables: ArchivedTable[];
  rows: { deleted: number; modified: number };
};

/** Counts and checksums the same way archive and restore do. */
export const checksumOf = (columns: GraphColumn[], from: string): string =>
  `SELECT count(*)::bigint AS rows, coalesce(sum(${rowHash(columns.map((column) => column.name))}), 0)::text AS checksum FROM ${from}`;

const safeFilePart = (text: string): string => text.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * Writes one clean archive: a hidden `.<name>.partial` folder (0700) holding one CSV file per table
 * and action (0600; CSV so that people can read an archive with any tool, and so that a restore
 * survives a later widening of a column type), then manifest.json; renamed to `<name>` when
 * complete. Rows are streamed by COPY from the rows the plan materialised: memory stays flat.
 */
export class CleanArchiveWriter {
  private readonly tables: ArchivedTable[] = [];
  private finalPath?: string;

  private constructor(
    readonly name: string,
    private readonly root: string,
    private readonly partial: string,
  ) {}

  static create(root: string, createdAt: Date): CleanArchiveWriter {
    const name = timestampName(createdAt);
    const partial = join(root, `.${name}.partial`);
    try {
      mkdirSync(root, { recursive: true, mode: 0o700 });
      chmodSync(root, 0o700);
      mkdirSync(partial, { mode: 0o700 });
    } catch (error) {
      throw new CleanException(
        CleanExceptionCode.FolderNotWritable,
        `cannot create ${partial}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { folder: root },
      );
    }
    return new CleanArchiveWriter(name, root, partial);
  }

  get path(): string {
    return this.finalPath ?? this.partial;
  }

  /** Streams the rows `selection` (a FROM item aliased t) designates into the table's file and checksums them. */
  async writeTable(
    client: Client,
    spec: { table: GraphTable; action: ArchivedTable['action']; selection: string; setColumns?: string[] },
    signal?: AbortSignal,
  ): Promise<ArchivedTable> {
    const columns = spec.table.storedColumns;
    const file = `${String(this.tables.length + 1).padStart(3, '0')}-${spec.action}-${safeFilePart(spec.table.key)}.csv`;
    const list = columns.map((column) => `t.${quoteIdentifier(column.name)}`).join(', ');
    const path = join(this.partial, file);
    const handle = await open(path, 'wx', 0o600);
    const tap = hashingTap();
    const reader = client.query(
      copyTo(`COPY (SELECT ${list} FROM ${spec.selection}) TO STDOUT WITH (FORMAT csv, HEADER true)`),
    );
    // The stream closes the handle when done; the data is then flushed to disk before it counts.
    await pipeline(reader, tap.stream, handle.createWriteStream(), { signal });
    fsyncPath(path);
    const summary = await client.query<{ rows: string; checksum: string }>(
      checksumOf(columns, spec.selection),
    );
    const rows = Number(summary.rows[0].rows);
    if (rows !== reader.rowCount) {
      throw new CleanException(
        CleanExceptionCode.ArchiveFailed,
        `${spec.table.key}: COPY wrote ${reader.rowCount} row(s) but ${rows} are planned`,
      );
    }
    const archived: ArchivedTable = {
      table: spec.table.key,
      schema: spec.table.schema,
      name: spec.table.name,
      action: spec.action,
      file,
      rows,
      checksum: summary.rows[0].checksum,
      ...tap.result(),
      columns,
      primaryKey: spec.table.primaryKey,
    };
    if (spec.setColumns) {
      archived.setColumns = spec.setColumns;
      const projection = await client.query<{ checksum: string }>(
        checksumOf(restoredColumns(archived), spec.selection),
      );
      archived.setChecksum = projection.rows[0].checksum;
    }
    this.tables.push(archived);
    return archived;
  }

  /** Writes the manifest and renames the folder: from here on the archive is complete and visible. */
  complete(manifest: Omit<CleanArchiveManifest, 'tables' | 'rows'>): CleanArchiveManifest {
    const full: CleanArchiveManifest = {
      ...manifest,
      tables: this.tables,
      rows: {
        deleted: this.tables
          .filter((table) => table.action === 'deleted')
          .reduce((sum, table) => sum + table.rows, 0),
        modified: this.tables
          .filter((table) => table.action === 'modified')
          .reduce((sum, table) => sum + table.rows, 0),
      },
    };
    const manifestPath = join(this.partial, CLEAN_MANIFEST_FILE);
    writeFileSync(manifestPath, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
    fsyncPath(manifestPath);
    const final = join(this.root, this.name);
    renameSync(this.partial, final);
    fsyncPath(this.root);
    this.finalPath = final;
    return full;
  }

  /** Removes the archive (partial or complete): used only when the deletion it describes did not happen. */
  discard(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Reads an archive's manifest; the name must be an archive name (no path can sneak in). */
export function readArchive(root: string, name: string): { path: string; manifest: CleanArchiveManifest } {
  const path = join(root, name);
  if (!ARCHIVE_NAME.test(name) || !existsSync(join(path, CLEAN_MANIFEST_FILE))) {
    throw new CleanException(
      CleanExceptionCode.ArchiveNotFound,
      `no clean archive named "${name}" under ${root}`,
      { root },
    );
  }
  let manifest: CleanArchiveManifest;
  try {
    manifest = JSON.parse(readFileSync(join(path, CLEAN_MANIFEST_FILE), 'utf8')) as CleanArchiveManifest;
  } catch (error) {
    throw new CleanException(
      CleanExceptionCode.ArchiveCorrupted,
      `${path}/${CLEAN_MANIFEST_FILE} is not readable JSON: ${(error as Error).message}`,
    );
  }
  if (manifest.tool !== 'topsteel-migration' || manifest.kind !== 'clean' || !Array.isArray(manifest.tables))
    throw new CleanException(CleanExceptionCode.ArchiveCorrupted, `${path} is not a clean archive`);
  return { path, manifest };
}

/** Every file present with the sha256 the manifest recorded. */
export async function verifyArchiveFiles(path: string, manifest: CleanArchiveManifest): Promise<void> {
  for (const table of manifest.tables) {
    const file = join(path, table.file);
    if (!/^[A-Za-z0-9_.-]+$/.test(table.file) || !existsSync(file))
      throw new CleanException(CleanExceptionCode.ArchiveCorrupted, `${file} is missing`);
    if ((await sha256File(file)) !== table.sha256)
      throw new CleanException(
        CleanExceptionCode.ArchiveCorrupted,
        `${file}: sha256 differs from the manifest`,
      );
  }
}

/**
 * The FROM item of the rows a plan materialised for one table (ctid is stable: the tables are
 * locked; tableoid tells apart the partitions, which each have their own ctids).
 */
export function plannedRows(table: GraphTable, kind: 'd' | 'm', index: number): string {
  return `${quoteQualified(table.schema, table.name)} AS t WHERE (t.tableoid, t.ctid) IN (SELECT p.row_tableoid, p.row_ctid FROM pg_temp.clean_plan AS p WHERE p.kind = '${kind}' AND p.idx = ${Math.trunc(index)})`;
}
