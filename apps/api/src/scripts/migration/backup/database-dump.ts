import { join } from 'node:path';
import { Client } from 'pg';
import { ProgressTask, RunContext } from '../../../common/run/run-context';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { computeSchemaFingerprint } from '../snapshot/schema-fingerprint';
import { computeFingerprints, fingerprintTargets } from '../snapshot/table-fingerprints';
import { PgToolsService, PgToolVersion, serverMajor } from '../tools/pg-tools.service';
import { listArchive } from './archive-tools';
import { BackupException, BackupExceptionCode } from './backup.exception';
import { BackupDatabaseEntry, DatabaseFingerprint, DatabaseRole } from './backup-manifest';
import { dumpToFile } from './pg-process';

export type DatabaseToBackUp = { location: DatabaseLocation; role: DatabaseRole };

export type DumpTools = { connections: PostgresConnectionFactory; tools: PgToolsService };

/** A snapshot the caller holds and has already fingerprinted (db:migrate copies from it too). */
export type ExistingSnapshot = { snapshot: ExportedSnapshot; content: DatabaseFingerprint };

type DatabaseFacts = {
  version: string;
  number: string;
  encoding: string;
  collate: string;
  ctype: string;
  settings: string[];
  acl: string | null;
  sizeBytes: number;
  horizon: string;
};

type Dumped = { bytes: number; sha256: string };

/**
 * zlib level 1 rather than pg_dump's default 6: pg_dump -Fc is bound by compression, and level 1
 * dumps the 520 MB benchmark monolith in 7.4 s instead of 19.8 s for a file 15% larger (190 vs
 * 165 MB). The backup sits in the migration's and the rollback's critical path, where time is
 * what the operator lacks; restore speed does not depend on the level.
 */
const DUMP_COMPRESSION = 1;

/**
 * pg_dump --format=custom of one database into `folder`, next to per-table counts and checksums
 * computed in the very snapshot pg_dump uses (both run at the same time), checked with
 * pg_restore --list as soon as it is written.
 */
export async function dumpDatabase(
  dependencies: DumpTools,
  database: DatabaseToBackUp,
  folder: string,
  pgDump: PgToolVersion,
  run?: RunContext,
  existing?: ExistingSnapshot,
): Promise<BackupDatabaseEntry> {
  const file = `${database.location.database}.dump`;
  let task: ProgressTask | undefined;
  const snapshot =
    existing?.snapshot ??
    (await ExportedSnapshot.open(dependencies.connections, database.location, {
      applicationName: 'topsteel-backup',
    }));
  const sessions: Client[] = [];
  try {
    const facts = await readDatabaseFacts(snapshot.client, pgDump);
    // The total is the database's size on disk: the compressed dump ends below it, the bar shows bytes written.
    task = run?.progress.task(`backup ${database.location.database}`, facts.sizeBytes, 'bytes');
    let dumping = true;
    // A failed checksum stops pg_dump rather than letting it run on for nothing.
    const stopDump = new AbortController();
    const dumpSignal = run ? AbortSignal.any([run.shutdown.signal, stopDump.signal]) : stopDump.signal;
    // The dump starts first; the checksum targets are listed while it runs.
    const target = { location: database.location, path: join(folder, file), snapshotId: snapshot.id };
    const dumped = runDump(dependencies, target, pgDump, dumpSignal, () => (dumping = false), task);
    const fingerprints = (
      existing ? Promise.resolve(existing.content) : fingerprintInSnapshot(snapshot, sessions, () => dumping)
    ).catch((error: unknown) => {
      stopDump.abort();
      throw error;
    });
    // Both settle before the folder is judged: pg_dump never outlives this call.
    const [dumpOutcome, contentOutcome] = await Promise.allSettled([dumped, fingerprints]);
    if (contentOutcome.status === 'rejected') throw contentOutcome.reason;
    if (dumpOutcome.status === 'rejected') throw dumpOutcome.reason;
    const { tables, schema } = contentOutcome.value;
    const { bytes, sha256 } = dumpOutcome.value;
    task?.finish(`${(bytes / 1048576).toFixed(1)} MB, ${Object.keys(tables).length} tables`);
    return {
      database: database.location.database,
      role: database.role,
      server: serverName(database.location),
      file,
      bytes,
      sha256,
      serverVersion: facts.version,
      pgDumpVersion: pgDump.version,
      encoding: facts.encoding,
      collate: facts.collate,
      ctype: facts.ctype,
      settings: facts.settings,
      acl: facts.acl,
      tables,
      schema,
      horizon: facts.horizon,
    };
  } catch (error) {
    task?.fail(error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await releaseClients(sessions);
    if (!existing) await snapshot.close();
  }
}

/** The declared name only: host and port stay in the configuration (the manifest may travel). */
function serverName(location: DatabaseLocation): string | null {
  if (location.server) return location.server;
  return location.host ? null : DEFAULT_SERVER;
}

/**
 * What pg_restore does not carry (encoding, locale, ALTER DATABASE … SET, grants), and the
 * snapshot's horizon (read in it: the exporting session's transaction); refuses an old pg_dump.
 */
async function readDatabaseFacts(client: Client, pgDump: PgToolVersion): Promise<DatabaseFacts> {
  const result = await client.query<DatabaseFacts>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number,
            pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype,
            coalesce((SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}')
              AS settings,
            datacl::text AS acl, pg_database_size(d.oid)::float8 AS "sizeBytes",
            pg_snapshot_xmin(pg_current_snapshot())::text AS horizon
     FROM pg_database d WHERE datname = current_database()`,
  );
  const [facts] = result.rows;
  if (pgDump.major < serverMajor(Number(facts.number))) {
    throw new BackupException(
      BackupExceptionCode.ToolTooOld,
      `pg_dump ${pgDump.version} is older than the server (${facts.version})`,
    );
  }
  return facts;
}

/** pg_dump into `path`; `exited` is called as soon as pg_dump is done, before the --list check. */
async function runDump(
  dependencies: DumpTools,
  { location, path, snapshotId }: { location: DatabaseLocation; path: string; snapshotId: string },
  pgDump: PgToolVersion,
  signal: AbortSignal,
  exited: () => void,
  task?: ProgressTask,
): Promise<Dumped> {
  const dump = await dumpToFile(
    pgDump.path,
    ['--format=custom', `--compress=${DUMP_COMPRESSION}`, `--snapshot=${snapshotId}`, '--no-password'],
    dependencies.connections.childProcessEnvironment(location),
    path,
    signal,
    task ? (written) => task.update(written) : undefined,
  ).finally(exited);
  if (dump.result.code !== 0) {
    const disk = /No space left on device/i.test(dump.result.stderr);
    throw new BackupException(
      disk ? BackupExceptionCode.DiskFull : BackupExceptionCode.DumpFailed,
      `pg_dump of ${location.database} failed: ${dump.result.stderr.trim() || `exit ${dump.result.code ?? dump.result.signal}`}`,
    );
  }
  // The archive is checked as soon as it is written, while the fingerprints may still run.
  const listing = await listArchive(dependencies.tools, path);
  if (!listing.ok) {
    throw new BackupException(
      BackupExceptionCode.Corrupted,
      `pg_restore --list cannot read the new dump of ${location.database}: ${listing.problem}`,
    );
  }
  return { bytes: dump.bytes, sha256: dump.sha256 };
}

/** Structure, counts and checksums in the dump's snapshot, paced while pg_dump runs beside them. */
async function fingerprintInSnapshot(
  snapshot: ExportedSnapshot,
  sessions: Client[],
  dumping: () => boolean,
): Promise<DatabaseFingerprint> {
  // One checksum session (a second one would compete with pg_dump for the CPU), connected while the
  // tables are listed; both settle before anything is judged, so the session is always released.
  const [listed, joined] = await Promise.allSettled([
    fingerprintTargets(snapshot.client),
    snapshot.join('topsteel-backup-checksum').then((session) => sessions.push(session)),
  ]);
  if (listed.status === 'rejected') throw listed.reason;
  if (joined.status === 'rejected') throw joined.reason;
  const targets = listed.value;
  // The structure first, in the same snapshot: catalogue reads only, a few milliseconds.
  const schema = await computeSchemaFingerprint(sessions[0]);
  const tables = await computeFingerprints(sessions, targets, { dutyCycle: 0.5, paceWhile: dumping });
  return { tables, schema };
}
