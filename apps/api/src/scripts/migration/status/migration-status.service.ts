import { Client } from 'pg';
import { OnlineStatus, readOnlineStatus } from '../online/online-status';
import { Injectable } from '@nestjs/common';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { DatabaseAdminService, DatabaseInfo } from '../../../modules/database/database-admin.service';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { LockHolder, MigrationLockService } from '../../../modules/database/migration-lock.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteRecord, SocieteRegistryService } from '../../../modules/societes/societe-registry.service';
import { BackupSummary } from '../backup/backup-manifest';
import { BackupCatalogService } from '../backup/backup-catalog.service';
import { exactRowCounts, listRelations } from '../catalogue/catalogue';
import {
  JournalContents,
  MigrationJournalService,
} from '../../../modules/database/journal/migration-journal.service';
import { RollbackStateFile } from '../rollback/rollback-state';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { databaseStatus, DatabaseStatus, unreadableStatus } from './database-status';
import { elsewhere, expectedDatabases } from './expected-databases';
import { ServerCatalogue, ServerStatus, ServerStatusService } from './server-status.service';

export type MonolithStatus = {
  database: string;
  exists: boolean;
  sizeBytes: number | null;
  tableCount: number;
  totalRows: number;
  tables: { name: string; rows: number; sizeBytes: number; hasPrimaryKey: boolean }[];
  /** Refusing connections: an interrupted rollback closed it during its swap (db:rollback reopens it). */
  closed?: boolean;
};

export type { DatabaseStatus } from './database-status';

export type StatusReport = {
  server: { host: string; port: number; version: string };
  monolith: MonolithStatus;
  backups: BackupSummary[];
  split: { status: string; startedAt: string | null; completedAt: string | null; backupPath: string | null };
  databases: DatabaseStatus[];
  connections: { database: string; count: number }[];
  lock: LockHolder | null;
  /** Per tenant server (TENANT_SERVERS): reachable, version, tenants, sizes, connections. */
  servers: ServerStatus[];
  /** Path of the state file of a rollback that stopped halfway, if any. */
  rollbackInProgress: string | null;
  /** The online split (`db:migrate -- --online`): phase, lag, the slot's retained WAL. */
  online: OnlineStatus | null;
};

/** Where things stand: monolith, backups, split state, new databases, pending migrations, connections. */
@Injectable()
export class MigrationStatusService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly societes: SocieteRegistryService,
    private readonly backups: BackupCatalogService,
    private readonly lock: MigrationLockService,
    private readonly servers: ServerStatusService,
  ) {}

  /**
   * Round trips are what status spends its time on (a few milliseconds of work each), so the default
   * server's catalogue (version, sizes, connections, lock) is read on one connection, AUTH's journal and
   * sociétés on one more, then the monolith, the databases (8 at a time), the online split and the
   * other servers all at once.
   */
  async collect(): Promise<StatusReport> {
    const config = this.configService.config;
    const rollbackFile = new RollbackStateFile(config);
    const rollbackState = rollbackFile.read();
    const catalogue = await this.catalogue();
    const infos = new Map(catalogue.server.infos.map((info) => [info.name, info]));
    // An interrupted rollback can leave AUTH closed to connections: the journal and the sociétés are
    // then unreadable, and status says so rather than failing, so the operator sees where things stand.
    const auth = infos.get(config.authDatabase);
    const authClosed = auth !== undefined && !auth.acceptsConnections;
    // The monolith's exact counts are the longest read: they start now, beside AUTH's.
    const monolithRead = this.monolith(infos.get(config.monolithDatabase));
    monolithRead.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const { journal, societes } =
      auth && !authClosed ? await this.readAuth() : { journal: null, societes: [] };
    const entries = [...expectedDatabases(config, societes, journal, rollbackState)];
    const services = {
      connections: this.connections,
      admin: this.admin,
      schemaMigrations: this.schemaMigrations,
      authDatabase: config.authDatabase,
    };
    const [monolith, databases, online, servers] = await Promise.all([
      monolithRead,
      mapWithConcurrency(entries, Math.min(8, config.tenantMaxDataSources), (entry) =>
        databaseStatus(services, entry, elsewhere(entry[1]) ? undefined : infos.get(entry[0]), rollbackState),
      ),
      // Only where AUTH exists: before the split, status must not even try to open it.
      authClosed || !auth
        ? null
        : readOnlineStatus(this.connections, {
            auth: config.authDatabase,
            monolith: config.monolithDatabase,
          }),
      this.servers.collect(societes, new Map([[DEFAULT_SERVER, catalogue.server]])),
    ]);
    return {
      server: { host: config.host, port: config.port, version: catalogue.server.version },
      monolith,
      backups: this.backups.list().map(({ manifest: _manifest, ...summary }) => summary),
      online,
      split: {
        status: authClosed ? 'unknown' : (journal?.split?.status ?? 'not-started'),
        startedAt: journal?.split?.startedAt ?? null,
        completedAt: journal?.split?.completedAt ?? null,
        backupPath: journal?.split?.backupPath ?? null,
      },
      databases: databases.map((result, index) =>
        result.status === 'fulfilled' ? result.value : unreadableStatus(entries[index], result.reason),
      ),
      connections: catalogue.connections,
      lock: catalogue.lock,
      servers,
      rollbackInProgress: rollbackState ? rollbackFile.path : null,
    };
  }

  /** The default server's catalogue, the connections per database and the lock holder, on one connection. */
  private async catalogue(): Promise<{
    server: ServerCatalogue;
    connections: { database: string; count: number }[];
    lock: LockHolder | null;
  }> {
    return this.connections.withClient(
      { database: this.configService.config.maintenanceDatabase },
      async (client) => {
        const server = await this.servers.catalogueWith(client);
        const activity = await client.query<{ database: string; count: number }>(
          'SELECT datname AS database, count(*)::int AS count FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY datname ORDER BY datname',
        );
        return { server, connections: activity.rows, lock: await this.lock.holderWith(client) };
      },
      { applicationName: 'topsteel-status' },
    );
  }

  /** The journal and the sociétés, on one connection to AUTH (which exists and accepts connections). */
  private async readAuth(): Promise<{ journal: JournalContents | null; societes: SocieteRecord[] }> {
    return this.connections.withClient(
      { database: this.configService.config.authDatabase },
      async (client) => ({
        journal: await this.journal.readWith(client),
        societes: await this.societes.listWith(client),
      }),
      { applicationName: 'topsteel-status' },
    );
  }

  private async monolith(info: DatabaseInfo | undefined): Promise<MonolithStatus> {
    const database = this.configService.config.monolithDatabase;
    const empty: MonolithStatus = {
      database,
      exists: false,
      sizeBytes: null,
      tableCount: 0,
      totalRows: 0,
      tables: [],
    };
    if (!info) return empty;
    // Said rather than failed on: nobody can read a closed monolith, status included.
    if (!info.acceptsConnections) return { ...empty, exists: true, closed: true };
    // One snapshot, exported so that a second session counts half of the tables in it: the
    // counts scan every table, and two scans side by side take half the time of one after the other.
    const snapshot = await ExportedSnapshot.open(
      this.connections,
      { database },
      {
        applicationName: 'topsteel-status',
      },
    );
    const sessions: Client[] = [];
    try {
      const [listed, joined] = await Promise.allSettled([
        listRelations(snapshot.client),
        snapshot.join('topsteel-status').then((session) => sessions.push(session)),
      ]);
      if (listed.status === 'rejected') throw listed.reason;
      if (joined.status === 'rejected') throw joined.reason;
      const relations = listed.value.filter((relation) => relation.kind === 'r' || relation.kind === 'p');
      const halves = balancedHalves(relations);
      const [first, second, size] = await Promise.all([
        exactRowCounts(snapshot.client, halves[0]),
        exactRowCounts(sessions[0], halves[1]),
        sessions[0].query<{ size: string }>('SELECT pg_database_size(current_database()) AS size'),
      ]);
      const counts = new Map([...first, ...second]);
      const tables = relations.map((relation) => ({
        name: relation.schema === 'public' ? relation.name : `${relation.schema}.${relation.name}`,
        rows: counts.get(`${relation.schema}.${relation.name}`) ?? 0,
        sizeBytes: relation.sizeBytes,
        hasPrimaryKey: relation.hasPrimaryKey,
      }));
      return {
        database,
        exists: true,
        sizeBytes: Number(size.rows[0].size),
        tableCount: tables.length,
        totalRows: tables.reduce((total, table) => total + table.rows, 0),
        tables,
      };
    } finally {
      await releaseClients(sessions);
      await snapshot.close();
    }
  }
}

/** Two lists of tables of about the same total size (largest first, each to the lighter list). */
function balancedHalves<T extends { sizeBytes: number }>(tables: T[]): [T[], T[]] {
  const halves: [T[], T[]] = [[], []];
  const weights = [0, 0];
  for (const table of [...tables].sort((left, right) => right.sizeBytes - left.sizeBytes)) {
    const lighter = weights[0] <= weights[1] ? 0 : 1;
    halves[lighter].push(table);
    weights[lighter] += table.sizeBytes;
  }
  return halves;
}
