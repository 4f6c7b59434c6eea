import { Injectable } from '@nestjs/common';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { RunContext } from '../../common/run/run-context';
import { fsyncPath, sha256File, timestampName } from '../../common/fs/durable-files';
import { tenantDatabaseName } from '../../database/config/multi-tenant-database.config';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import { BackupException, BackupExceptionCode } from './backup/backup.exception';
import { BackupCatalogService } from './backup/backup-catalog.service';
import {
  BackupDatabaseEntry,
  BackupManifest,
  DatabaseFingerprint,
  DatabaseRole,
  MANIFEST_FILE,
  TableFingerprint,
} from './backup/backup-manifest';
import { dumpToFile, runTool } from './backup/pg-process';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { ExportedSnapshot, releaseClients } from './snapshot/exported-snapshot';
import { compareSchemas, computeSchemaFingerprint } from './snapshot/schema-fingerprint';
import { computeFingerprints, fingerprintTargets } from './snapshot/table-fingerprints';
import { PgToolsService, PgToolVersion, serverMajor } from './tools/pg-tools.service';

export type DatabaseToBackUp = { location: DatabaseLocation; role: DatabaseRole };

export type BackupResult = { name: string; path: string; manifest: BackupManifest; durationMs: number };

export type ArchiveCheck = {
  database: string;
  file: string;
  exists: boolean;
  sha256Matches: boolean;
  listable: boolean;
  tableData: number;
  problem?: string;
};

export type FingerprintDifference = {
  table: string;
  expected: TableFingerprint | null;
  actual: TableFingerprint | null;
};

/**
 * zlib level 1 rather than pg_dump's default 6: pg_dump -Fc is bound by compression, and level 1
 * dumps the 520 MB benchmark monolith in 7.4 s instead of 19.8 s for a file 15% larger (190 vs
 * 165 MB). The backup sits in the migration's and the rollback's critical path, where time is
 * what the operator lacks; restore speed does not depend on the level.
 */
const DUMP_COMPRESSION = 1;

/**
 * `db:backup`: pg_dump --format=custom of the monolith (and of AUTH, SHARED and every tenant when
 * they exist), each next to per-table counts and checksums computed in the very snapshot pg_dump
 * used. Written under a hidden temporary folder renamed when complete, 0600 files in a 0700
 * folder, verified with pg_restore --list. Also verifies and restores such archives.
 */
@Injectable()
export class BackupCurrentDatabaseService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly tools: PgToolsService,
    private readonly catalog: BackupCatalogService,
    private readonly journal: MigrationJournalService,
    private readonly societes: SocieteRegistryService,
  ) {}

  /** The monolith (when it exists) and every new database that exists. */
  async databasesToBackUp(options: { monolithOnly?: boolean } = {}): Promise<DatabaseToBackUp[]> {
    const config = this.configService.config;
    const databases: DatabaseToBackUp[] = [];
    if (await this.admin.exists({ database: config.monolithDatabase }))
      databases.push({ location: { database: config.monolithDatabase }, role: 'monolith' });
    if (options.monolithOnly) return databases;
    for (const [database, role] of [
      [config.authDatabase, 'auth'],
      [config.sharedDatabase, 'shared'],
    ] as const) {
      if (await this.admin.exists({ database })) databases.push({ location: { database }, role });
    }
    const tenants = new Map<string, DatabaseLocation>();
    for (const societe of await this.societes.list().catch(() => []))
      tenants.set(societe.database, {
        database: societe.database,
        server: societe.server,
        host: societe.host,
        port: societe.port,
      });
    for (const created of (await this.journal.read().catch(() => null))?.databases ?? []) {
      if (created.kind === 'tenant')
        tenants.set(created.name, {
          database: created.name,
          server: created.server,
          host: created.host,
          port: created.port,
        });
    }
    const defaultTenant = tenantDatabaseName(config, config.defaultSocieteCode);
    if (!tenants.has(defaultTenant)) tenants.set(defaultTenant, { database: defaultTenant });
    for (const location of tenants.values()) {
      if (await this.admin.exists(location)) databases.push({ location, role: 'tenant' });
    }
    return databases;
  }

  async backup(
    databases: DatabaseToBackUp[],
    options: { kind?: BackupManifest['kind']; run?: RunContext } = {},
  ): Promise<BackupResult> {
    if (databases.length === 0)
      throw new BackupException(BackupExceptionCode.NoBackup, 'there is no database to back up');
    return this.writeBackup(options.kind ?? 'pre-migration', options.run, async (folder, pgDump) => {
      const entries: BackupDatabaseEntry[] = [];
      for (const database of databases) {
        options.run?.shutdown.throwIfRequested();
        entries.push(await this.dumpOne(database, folder, pgDump, options.run));
      }
      return entries;
    });
  }

  /**
   * Backs up the monolith in a snapshot the caller already holds and has already fingerprinted
   * (db:migrate copies from that same snapshot, so backup and copy describe the same data).
   */
  async backupInSnapshot(
    database: DatabaseToBackUp,
    snapshot: ExportedSnapshot,
    content: DatabaseFingerprint,
    run?: RunContext,
  ): Promise<BackupResult> {
    return this.writeBackup('pre-migration', run, async (folder, pgDump) => [
      await this.dumpOne(database, folder, pgDump, run, { snapshot, content }),
    ]);
  }

  /** Folder handling shared by every backup: hidden while written, renamed when complete, removed on failure. */
  private async writeBackup(
    kind: BackupManifest['kind'],
    run: RunContext | undefined,
    produce: (folder: string, pgDump: PgToolVersion) => Promise<BackupDatabaseEntry[]>,
  ): Promise<BackupResult> {
    const started = Date.now();
    // pg_restore's version is read now, beside pg_dump's, for the --list check that follows the dump.
    const [pgDump] = await Promise.all([this.tools.version('pg_dump'), this.tools.version('pg_restore')]);
    if (!pgDump)
      throw new BackupException(
        BackupExceptionCode.ToolMissing,
        `pg_dump not found (${this.tools.path('pg_dump')})`,
      );
    const createdAt = new Date();
    const name = timestampName(createdAt);
    const parent = this.catalog.folder(kind);
    const partial = join(parent, `.${name}.partial`);
    const final = join(parent, name);
    try {
      // mkdir's mode applies to the folders it creates; BACKUP_DIR itself may be shared, so only our sub-folder is tightened.
      mkdirSync(parent, { recursive: true, mode: 0o700 });
      chmodSync(parent, 0o700);
      mkdirSync(partial, { mode: 0o700 });
    } catch (error) {
      throw new BackupException(
        BackupExceptionCode.FolderNotWritable,
        `cannot create ${partial}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { folder: parent },
      );
    }
    try {
      const databases = await produce(partial, pgDump);
      const manifest: BackupManifest = {
        formatVersion: 1,
        tool: 'topsteel-migration',
        kind,
        createdAt: createdAt.toISOString(),
        runId: run?.runId ?? 'library',
        databases,
      };
      writeFileSync(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      // On disk before it counts as a backup: a rollback drops databases right after trusting it.
      for (const file of [...databases.map((entry) => entry.file), MANIFEST_FILE])
        fsyncPath(join(partial, file));
      fsyncPath(partial);
      renameSync(partial, final);
      fsyncPath(parent);
      return { name, path: final, manifest, durationMs: Date.now() - started };
    } catch (error) {
      // Nothing half-written may ever look like a backup.
      rmSync(partial, { recursive: true, force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new BackupException(
          BackupExceptionCode.DiskFull,
          `no space left on the device holding ${parent}`,
          {},
          { cause: error },
        );
      }
      throw error;
    }
  }

  private async dumpOne(
    database: DatabaseToBackUp,
    folder: string,
    pgDump: PgToolVersion,
    run?: RunContext,
    existing?: { snapshot: ExportedSnapshot; content: DatabaseFingerprint },
  ): Promise<BackupDatabaseEntry> {
    const file = `${database.location.database}.dump`;
    const task = run?.progress.task(`backup ${database.location.database}`, 1, 'database');
    const snapshot =
      existing?.snapshot ??
      (await ExportedSnapshot.open(this.connections, database.location, {
        applicationName: 'topsteel-backup',
      }));
    const sessions: Client[] = [];
    try {
      const version = await snapshot.client.query<{
        version: string;
        number: string;
        encoding: string;
        collate: string;
        ctype: string;
        settings: string[];
        acl: string | null;
      }>(
        `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS number,
                pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype,
                coalesce((SELECT setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings,
                datacl::text AS acl
         FROM pg_database d WHERE datname = current_database()`,
      );
      const major = serverMajor(Number(version.rows[0].number));
      if (pgDump.major < major) {
        throw new BackupException(
          BackupExceptionCode.ToolTooOld,
          `pg_dump ${pgDump.version} is older than the server (${version.rows[0].version})`,
        );
      }
      let dumping = true;
      // A failed checksum stops pg_dump rather than letting it run on for nothing.
      const stopDump = new AbortController();
      const dumpSignal = run ? AbortSignal.any([run.shutdown.signal, stopDump.signal]) : stopDump.signal;
      // The dump starts first; the checksum targets are listed while it runs. Both read the same
      // snapshot at the same time, so they describe the same data.
      const dumped = dumpToFile(
        pgDump.path,
        ['--format=custom', `--compress=${DUMP_COMPRESSION}`, `--snapshot=${snapshot.id}`, '--no-password'],
        this.connections.childProcessEnvironment(database.location),
        join(folder, file),
        dumpSignal,
      )
        .finally(() => (dumping = false))
        .then(async (dump) => {
          if (dump.result.code !== 0) {
            const disk = /No space left on device/i.test(dump.result.stderr);
            throw new BackupException(
              disk ? BackupExceptionCode.DiskFull : BackupExceptionCode.DumpFailed,
              `pg_dump of ${database.location.database} failed: ${dump.result.stderr.trim() || `exit ${dump.result.code ?? dump.result.signal}`}`,
            );
          }
          // The archive is checked as soon as it is written, while the fingerprints may still run.
          const listing = await this.listArchive(join(folder, file));
          if (!listing.ok) {
            throw new BackupException(
              BackupExceptionCode.Corrupted,
              `pg_restore --list cannot read the new dump of ${database.location.database}: ${listing.problem}`,
            );
          }
          return dump;
        });
      const fingerprints: Promise<DatabaseFingerprint> = existing
        ? Promise.resolve(existing.content)
        : (async () => {
            const targets = await fingerprintTargets(snapshot.client);
            // One checksum session: a second one would compete with pg_dump for the CPU.
            sessions.push(await snapshot.join('topsteel-backup-checksum'));
            // The structure first, in the same snapshot: catalogue reads only, a few milliseconds.
            const schema = await computeSchemaFingerprint(sessions[0]);
            const tables = await computeFingerprints(sessions, targets, {
              dutyCycle: 0.5,
              paceWhile: () => dumping,
            });
            return { tables, schema };
          })().catch((error: unknown) => {
            stopDump.abort();
            throw error;
          });
      // Both settle before the folder is judged: pg_dump never outlives this call.
      const [dumpOutcome, tablesOutcome] = await Promise.allSettled([dumped, fingerprints]);
      if (tablesOutcome.status === 'rejected') throw tablesOutcome.reason;
      if (dumpOutcome.status === 'rejected') throw dumpOutcome.reason;
      const dump = dumpOutcome.value;
      const { tables, schema } = tablesOutcome.value;
      const tableCount = Object.keys(tables).length;
      task?.finish(`${(dump.bytes / 1048576).toFixed(1)} MB, ${tableCount} tables`);
      return {
        database: database.location.database,
        role: database.role,
        file,
        bytes: dump.bytes,
        sha256: dump.sha256,
        serverVersion: version.rows[0].version,
        pgDumpVersion: pgDump.version,
        encoding: version.rows[0].encoding,
        collate: version.rows[0].collate,
        ctype: version.rows[0].ctype,
        settings: version.rows[0].settings,
        acl: version.rows[0].acl,
        tables,
        schema,
      };
    } catch (error) {
      task?.fail(error instanceof Error ? error.message : String(error));
      throw error;
    } finally {
      await releaseClients(sessions);
      if (!existing) await snapshot.close();
    }
  }

  /**
   * The newest pre-migration backup of `database` whose manifest matches `current` (the database's
   * rows and structure now) and whose file is intact, or null. A manifest written before schema
   * fingerprints existed cannot vouch for the structure, so it is never reused: a new backup is cheap.
   */
  async findMatchingBackup(
    database: string,
    current: DatabaseFingerprint,
  ): Promise<{ name: string; path: string; manifest: BackupManifest; entry: BackupDatabaseEntry } | null> {
    for (const candidate of this.catalog.list('pre-migration').slice(0, 10)) {
      const entry = candidate.manifest.databases.find(
        (item) => item.role === 'monolith' && item.database === database,
      );
      if (!entry?.schema || compareFingerprints(entry.tables, current.tables).length > 0) continue;
      if (compareSchemas(entry.schema, current.schema).length > 0) continue;
      const checks = await this.verifyArchive(candidate.path, { ...candidate.manifest, databases: [entry] });
      if (checks.every((check) => !check.problem)) return { ...candidate, entry };
    }
    return null;
  }

  /** pg_restore --list: the archive's table of contents is readable. */
  async listArchive(file: string): Promise<{ ok: boolean; tableData: number; problem?: string }> {
    const restore = await this.tools.version('pg_restore');
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
  async verifyArchive(path: string, manifest: BackupManifest): Promise<ArchiveCheck[]> {
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
        const listing = await this.listArchive(file);
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
  async restore(file: string, location: DatabaseLocation, signal?: AbortSignal): Promise<void> {
    const restore = await this.tools.version('pg_restore');
    if (!restore) throw new BackupException(BackupExceptionCode.ToolMissing, 'pg_restore not found');
    const result = await runTool(
      restore.path,
      ['--exit-on-error', '--no-password', '--jobs=2', `--dbname=${location.database}`, file],
      this.connections.childProcessEnvironment(location),
      signal,
    );
    if (result.code !== 0) {
      throw new BackupException(
        BackupExceptionCode.RestoreFailed,
        `pg_restore into ${location.database} failed: ${result.stderr.trim() || `exit ${result.code}`}`,
      );
    }
  }

  /** Current counts, checksums and structure of a database, in one snapshot. */
  async describe(location: DatabaseLocation): Promise<DatabaseFingerprint> {
    let schema: DatabaseFingerprint['schema'] | undefined;
    const tables = await this.fingerprints(location, {
      beforeChecksums: async (session) => {
        schema = await computeSchemaFingerprint(session);
      },
    });
    return { tables, schema: schema as DatabaseFingerprint['schema'] };
  }

  /** Current counts and checksums of a database, in one snapshot. */
  async fingerprints(
    location: DatabaseLocation,
    options: { excludeSchemas?: string[]; beforeChecksums?: (session: Client) => Promise<void> } = {},
  ): Promise<Record<string, TableFingerprint>> {
    const snapshot = await ExportedSnapshot.open(this.connections, location, {
      applicationName: 'topsteel-fingerprint',
    });
    const sessions: Client[] = [];
    try {
      const targets = await fingerprintTargets(snapshot.client, options);
      sessions.push(await snapshot.join('topsteel-fingerprint'));
      await options.beforeChecksums?.(sessions[0]);
      if (targets.length > 1) sessions.push(await snapshot.join('topsteel-fingerprint'));
      return await computeFingerprints(sessions, targets);
    } finally {
      await releaseClients(sessions);
      await snapshot.close();
    }
  }
}

/** Tables whose count or checksum differs between two fingerprint sets (missing on either side included). */
export function compareFingerprints(
  expected: Record<string, TableFingerprint>,
  actual: Record<string, TableFingerprint>,
): FingerprintDifference[] {
  const differences: FingerprintDifference[] = [];
  for (const table of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
    const left = expected[table] ?? null;
    const right = actual[table] ?? null;
    if (!left || !right || left.rows !== right.rows || left.checksum !== right.checksum)
      differences.push({ table, expected: left, actual: right });
  }
  return differences;
}
