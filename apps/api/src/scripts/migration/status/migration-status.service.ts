import { OnlineStatus, readOnlineStatus } from '../online/online-status';
import { Injectable } from '@nestjs/common';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { LockHolder, MigrationLockService } from '../../../modules/database/migration-lock.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteRegistryService } from '../../../modules/societes/societe-registry.service';
import { BackupSummary } from '../backup/backup-manifest';
import { BackupCatalogService } from '../backup/backup-catalog.service';
import { exactRowCounts, listRelations } from '../catalogue/catalogue';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { RollbackStateFile } from '../rollback/rollback-state';
import { databaseStatus, DatabaseStatus, unreadableStatus } from './database-status';
import { elsewhere, expectedDatabases } from './expected-databases';
import { ServerStatus, ServerStatusService } from './server-status.service';

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

  async collect(): Promise<StatusReport> {
    const config = this.configService.config;
    const server = await this.server();
    const rollbackFile = new RollbackStateFile(config);
    const rollbackState = rollbackFile.read();
    // An interrupted rollback can leave AUTH closed to connections: the journal and the sociétés are
    // then unreadable, and status says so rather than failing, so the operator sees where things stand.
    const [auth] = await this.admin.list({}, [config.authDatabase]);
    const authClosed = auth !== undefined && !auth.acceptsConnections;
    const [monolith, journal, societes, lock] = await Promise.all([
      this.monolith(),
      authClosed ? null : this.journal.read(),
      authClosed ? [] : this.societes.list(),
      this.lock.holder(),
    ]);
    const entries = [...expectedDatabases(config, societes, journal, rollbackState)];
    const onDefaultServer = entries.filter(([, where]) => !elsewhere(where)).map(([name]) => name);
    const infos = new Map((await this.admin.list({}, onDefaultServer)).map((info) => [info.name, info]));
    const services = {
      connections: this.connections,
      admin: this.admin,
      schemaMigrations: this.schemaMigrations,
      authDatabase: config.authDatabase,
    };
    const databases = await mapWithConcurrency(entries, Math.min(8, config.tenantMaxDataSources), (entry) =>
      databaseStatus(services, entry, infos.get(entry[0]), rollbackState),
    );
    return {
      server: { host: config.host, port: config.port, version: server.version },
      monolith,
      backups: this.backups.list().map(({ manifest: _manifest, ...summary }) => summary),
      // Only where AUTH exists: before the split, status must not even try to open it.
      online:
        authClosed || !auth
          ? null
          : await readOnlineStatus(this.connections, {
              auth: config.authDatabase,
              monolith: config.monolithDatabase,
            }),
      split: {
        status: authClosed ? 'unknown' : (journal?.split?.status ?? 'not-started'),
        startedAt: journal?.split?.startedAt ?? null,
        completedAt: journal?.split?.completedAt ?? null,
        backupPath: journal?.split?.backupPath ?? null,
      },
      databases: databases.map((result, index) =>
        result.status === 'fulfilled' ? result.value : unreadableStatus(entries[index], result.reason),
      ),
      connections: server.connections,
      lock,
      servers: await this.servers.collect(societes),
      rollbackInProgress: rollbackState ? rollbackFile.path : null,
    };
  }

  private async server(): Promise<{ version: string; connections: { database: string; count: number }[] }> {
    return this.connections.withClient(
      { database: this.configService.config.maintenanceDatabase },
      async (client) => {
        const version = await client.query<{ server_version: string }>('SHOW server_version');
        const activity = await client.query<{ database: string; count: number }>(
          'SELECT datname AS database, count(*)::int AS count FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY datname ORDER BY datname',
        );
        return { version: version.rows[0].server_version, connections: activity.rows };
      },
    );
  }

  private async monolith(): Promise<MonolithStatus> {
    const database = this.configService.config.monolithDatabase;
    const empty: MonolithStatus = {
      database,
      exists: false,
      sizeBytes: null,
      tableCount: 0,
      totalRows: 0,
      tables: [],
    };
    const [info] = await this.admin.list({}, [database]);
    if (!info) return empty;
    // Said rather than failed on: nobody can read a closed monolith, status included.
    if (!info.acceptsConnections) return { ...empty, exists: true, closed: true };
    return this.connections.withClient(
      { database },
      async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const relations = (await listRelations(client)).filter(
          (relation) => relation.kind === 'r' || relation.kind === 'p',
        );
        const counts = await exactRowCounts(client, relations);
        const size = await client.query<{ size: string }>(
          'SELECT pg_database_size(current_database()) AS size',
        );
        await client.query('COMMIT');
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
      },
      { readOnly: true, applicationName: 'topsteel-status' },
    );
  }
}
