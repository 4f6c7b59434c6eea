import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncPath, timestampName } from '../../../common/fs/durable-files';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { listArchive } from '../backup/archive-tools';
import { dumpToFile } from '../backup/pg-process';
import { PgToolsService } from '../tools/pg-tools.service';
import { MoveException, MoveExceptionCode } from './move.exception';

export type MoveDump = { path: string; bytes: number; sha256: string };

/**
 * `pg_dump -Fc` of the old database into BACKUP_DIR/moves/<time>-<code>/ (folder 0700, file 0600),
 * checked with `pg_restore --list` and flushed to disk before anything may drop the database. The
 * password reaches pg_dump through PGPASSWORD only.
 */
export async function dumpOldDatabase(
  dependencies: { connections: PostgresConnectionFactory; tools: PgToolsService; backupDir: string },
  location: DatabaseLocation,
  code: string,
  signal?: AbortSignal,
): Promise<MoveDump> {
  const pgDump = await dependencies.tools.version('pg_dump');
  if (!pgDump) {
    throw new MoveException(MoveExceptionCode.DumpFailed, 'pg_dump was not found (PATH or PG_BIN_DIR)');
  }
  const movesFolder = join(dependencies.backupDir, 'moves');
  const folder = join(movesFolder, `${timestampName(new Date())}-${code.toLowerCase()}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const path = join(folder, `${location.database}.dump`);
  const dump = await dumpToFile(
    pgDump.path,
    ['--format=custom', '--compress=1', '--no-password'],
    dependencies.connections.childProcessEnvironment(location),
    path,
    signal,
  );
  if (dump.result.code !== 0) {
    throw new MoveException(
      MoveExceptionCode.DumpFailed,
      `pg_dump of ${location.database} failed: ${dump.result.stderr.trim() || `exit ${dump.result.code ?? dump.result.signal}`}`,
    );
  }
  const listing = await listArchive(dependencies.tools, path);
  if (!listing.ok) {
    throw new MoveException(
      MoveExceptionCode.DumpFailed,
      `pg_restore --list cannot read the dump of ${location.database}: ${listing.problem}`,
    );
  }
  fsyncPath(path);
  fsyncPath(folder);
  fsyncPath(movesFolder);
  return { path, bytes: dump.bytes, sha256: dump.sha256 };
}
