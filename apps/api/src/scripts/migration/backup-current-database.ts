import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { RunContext } from '../../common/run/run-context';
import { tenantDatabaseName } from '../../database/config/multi-tenant-database.config';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import {
  ArchiveCheck,
  ArchiveListing,
  listArchive,
  restoreArchive,
  verifyArchive,
} from './backup/archive-tools';
import { BackupException, BackupExceptionCode } from './backup/backup.exception';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { writeBackupFolder } from './backup/backup-folder';
import {
  BackupDatabaseEntry,
  BackupManifest,
  DatabaseFingerprint,
  SchemaFingerprint,
  TableFingerprint,
} from './backup/backup-manifest';
import { DatabaseToBackUp, dumpDatabase, DumpTools } from './backup/database-dump';
import { compareFingerprints } from './backup/fingerprint-comparison';
import { ExportedSnapshot, releaseClients } from './snapshot/exported-snapshot';
import { compareSchemas, computeSchemaFingerprint } from './snapshot/schema-fingerprint';
import { provenUnchanged } from './snapshot/snapshot-horizon';
import {
  computeFingerprints,
  fingerprintKey,
  FingerprintHash,
  FingerprintTarget,
  fingerprintTargets,
} from './snapshot/table-fingerprints';
import { PgToolsService, PgToolVersion } from './tools/pg-tools.service';

// The callers of db:backup's service import these from here, the file the migration guide names.
export { ArchiveCheck } from './backup/archive-tools';
export { DatabaseToBackUp } from './backup/database-dump';
export { compareFingerprints, FingerprintDifference } from './backup/fingerprint-comparison';

export type BackupResult = { name: string; path: string; manifest: BackupManifest; durationMs: number };

/**
 * `db:backup`: pg_dump --format=custom of the monolith (and of AUTH, SHARED and every tenant when
 * they exist), each next to per-table counts and checksums computed in the very snapshot pg_dump
 * used (backup/database-dump.ts). Written under a hidden temporary folder renamed when complete,
 * 0600 files in a 0700 folder (backup/backup-folder.ts), verified with pg_restore --list. Also
 * verifies and restores such archives (backup/archive-tools.ts).
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

  private get dumpTools(): DumpTools {
    return { connections: this.connections, tools: this.tools };
  }

  /**
   * Starts reading pg_dump's and pg_restore's versions (two process spawns, remembered for the
   * process) so that they overlap what the caller does next instead of delaying the dump.
   */
  readToolVersions(): void {
    void this.tools.version('pg_dump');
    void this.tools.version('pg_restore');
  }

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
        entries.push(await dumpDatabase(this.dumpTools, database, folder, pgDump, options.run));
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
      await dumpDatabase(this.dumpTools, database, folder, pgDump, run, { snapshot, content }),
    ]);
  }

  /** pg_dump's version, then the folder: hidden while written, renamed when complete, removed on failure. */
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
    const written = await writeBackupFolder(
      this.catalog.folder(kind),
      { kind, runId: run?.runId ?? 'library' },
      (folder) => produce(folder, pgDump),
    );
    return { ...written, durationMs: Date.now() - started };
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

  /**
   * The newest pre-migration backup of `database` that provably still holds what the snapshot the
   * `sessions` read in holds, without a checksum: same structure and tables, and every table
   * proven unchanged since the dump's snapshot by its horizon (snapshot/snapshot-horizon.ts), the
   * file intact. Its recorded checksums are then the monolith's current ones. Null when no manifest
   * carries a horizon or none is proven: the caller checksums every table and compares.
   */
  async findBackupUnchangedSince(
    database: string,
    sessions: Client[],
    current: { schema: SchemaFingerprint; tables: FingerprintTarget[] },
  ): Promise<{ path: string; entry: BackupDatabaseEntry } | null> {
    for (const candidate of this.catalog.list('pre-migration').slice(0, 10)) {
      const entry = candidate.manifest.databases.find(
        (item) => item.role === 'monolith' && item.database === database,
      );
      if (!entry || !(await provenSince(entry, sessions, current))) continue;
      const checks = await this.verifyArchive(candidate.path, { ...candidate.manifest, databases: [entry] });
      if (checks.every((check) => !check.problem)) return { path: candidate.path, entry };
    }
    return null;
  }

  /**
   * Whether a database still holds exactly what a backup entry records, proven without a checksum
   * (same structure and tables, every table unchanged since the dump's horizon). False when the
   * entry has no horizon or the proof fails: the caller then describes the database in full. This
   * is a rollback's usual case, the monolith untouched since its backup, at a seventh of a hash.
   */
  async provenUnchangedSince(location: DatabaseLocation, entry: BackupDatabaseEntry): Promise<boolean> {
    if (!entry.schema || !entry.horizon) return false;
    const snapshot = await ExportedSnapshot.open(this.connections, location, {
      applicationName: 'topsteel-fingerprint',
    });
    const sessions: Client[] = [];
    try {
      const tables = await fingerprintTargets(snapshot.client);
      for (let index = 0; index < Math.min(2, tables.length); index++)
        sessions.push(await snapshot.join('topsteel-fingerprint'));
      const schema = await computeSchemaFingerprint(sessions[0] ?? snapshot.client);
      return await provenSince(entry, sessions, { schema, tables });
    } finally {
      await releaseClients(sessions);
      await snapshot.close();
    }
  }

  /** pg_restore --list: the archive's table of contents is readable. */
  listArchive(file: string): Promise<ArchiveListing> {
    return listArchive(this.tools, file);
  }

  /** Checks every file of a backup: present, sha256 as recorded, readable by pg_restore. */
  verifyArchive(path: string, manifest: BackupManifest): Promise<ArchiveCheck[]> {
    return verifyArchive(this.tools, path, manifest);
  }

  /** Restores an archive into an existing empty database, stopping at the first error. */
  restore(file: string, location: DatabaseLocation, signal?: AbortSignal): Promise<void> {
    return restoreArchive(
      this.tools,
      this.connections.childProcessEnvironment(location),
      file,
      location,
      signal,
    );
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
    options: {
      excludeSchemas?: string[];
      beforeChecksums?: (session: Client) => Promise<void>;
      hash?: FingerprintHash;
    } = {},
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
      return await computeFingerprints(sessions, targets, { hash: options.hash });
    } finally {
      await releaseClients(sessions);
      await snapshot.close();
    }
  }
}

/** Same structure and tables as the entry, each table proven unchanged since its horizon. */
async function provenSince(
  entry: BackupDatabaseEntry,
  sessions: Client[],
  current: { schema: SchemaFingerprint; tables: FingerprintTarget[] },
): Promise<boolean> {
  if (!entry.schema || !entry.horizon) return false;
  const names = current.tables.map(fingerprintKey).sort();
  if (Object.keys(entry.tables).sort().join('\u0000') !== names.join('\u0000')) return false;
  if (compareSchemas(entry.schema, current.schema).length > 0) return false;
  const counted = current.tables.map((table) => ({
    ...table,
    rows: entry.tables[fingerprintKey(table)].rows,
  }));
  const proven = await provenUnchanged(sessions, counted, entry.horizon);
  return proven.size === counted.length;
}
