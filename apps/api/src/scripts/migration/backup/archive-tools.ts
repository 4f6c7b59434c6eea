import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../../common/fs/durable-files';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { PgToolsService } from '../tools/pg-tools.service';
import { BackupException, BackupExceptionCode } from './backup.exception';
import { BackupManifest } from './backup-manifest';
import { runTool } from './pg-process';

export type ArchiveCheck = {
  database: string;
  file: string;
  exists: boolean;
  sha256Matches: boolean;
  listable: boolean;
  tableData: number;
  problem?: string;
};

export type ArchiveListing = { ok: boolean; tableData: number; problem?: string };

/** pg_restore --list: the archive's table of contents is readable. */
export async function listArchive(tools: PgToolsService, file: string): Promise<ArchiveListing> {
  const restore = await tools.version('pg_restore');
  if (!restore) return { ok: false, tableData: 0, problem: 'pg_restore not found' };
  const result = await runTool(restore.path, ['--list', file], { ...process.env });
  if (result.code !== 0)
    return { ok: false, tableData: 0, problem: result.stderr.trim() || `exit ${result.code}` };
  return {
    ok: true,
    tableData: result.stdout.split('\n').filter((line) => / TABLE DATA /.test(line)).length,
  };
}

/** Checks every file of a backup: present, sha256 as recorded, readable by pg_restore. */
export async function verifyArchive(
  tools: PgToolsService,
  path: string,
  manifest: BackupManifest,
): Promise<ArchiveCheck[]> {
  const checks: ArchiveCheck[] = [];
  for (const entry of manifest.databases) {
    const file = join(path, entry.file);
    const check: ArchiveCheck = {
      database: entry.database,
      file,
      exists: existsSync(file),
      sha256Matches: false,
      listable: false,
      tableData: 0,
    };
    if (check.exists) {
      check.sha256Matches = (await sha256File(file)) === entry.sha256;
      const listing = await listArchive(tools, file);
      check.listable = listing.ok;
      check.tableData = listing.tableData;
      if (!check.sha256Matches) check.problem = 'sha256 differs from the manifest';
      else if (!listing.ok) check.problem = `pg_restore --list: ${listing.problem}`;
    } else {
      check.problem = 'file missing';
    }
    checks.push(check);
  }
  return checks;
}

/** Restores an archive into an existing empty database, stopping at the first error. */
export async function restoreArchive(
  tools: PgToolsService,
  environment: NodeJS.ProcessEnv,
  file: string,
  location: DatabaseLocation,
  signal?: AbortSignal,
): Promise<void> {
  const restore = await tools.version('pg_restore');
  if (!restore) throw new BackupException(BackupExceptionCode.ToolMissing, 'pg_restore not found');
  const result = await runTool(
    restore.path,
    ['--exit-on-error', '--no-password', '--jobs=2', `--dbname=${location.database}`, file],
    environment,
    signal,
  );
  if (result.code !== 0) {
    throw new BackupException(
      BackupExceptionCode.RestoreFailed,
      `pg_restore into ${location.database} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  }
}
