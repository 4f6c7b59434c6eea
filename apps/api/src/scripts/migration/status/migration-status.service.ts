import { OnlineStatus, readOnlineStatus } from '../online/online-status';
import { Injectable } from '@nestjs/common';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { tenantDatabaseName } from '../../../database/config/multi-tenant-database.config';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseAdminService, OWNERSHIP_MARKER } from '../../../modules/database/database-admin.service';
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

export type MonolithStatus = {
  database: string;
  exists: boolean;
  sizeBytes: number | null;
  tableCount: number;
  totalRows: number;
  tables: { name: string; rows: number; sizeBytes: number; hasPrimaryKey: boolean }[];
};

export type DatabaseStatus = {
  name: string;
  kind: SchemaKind;
  societe: string | null;
  exists: boolean;
  ownedByTool: boolean;
  sizeBytes: number | null;
  connections: number;
  appliedMigrations: number | null;
  pendingMigrations: string[] | null;
  /** Exists but refuses connections (ALLOW_CONNECTIONS false), e.g. left so by an interrupted rollback. */
  closed?: boolean;
  /** Why it is closed, when the rollback record says it closed it. */
  closedBy?: string;
  error?: string;
};

export type StatusReport = {
  server: { host: string; port: number; version: string };
  monolith: MonolithStatus;
  backups: BackupSummary[];
  split: { status: string; startedAt: string | null; completedAt: string | null; backupPath: string | null };
  databases: DatabaseStatus[];
  connections: { database: string; count: number }[];
  lock: LockHolder | null;
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
  ) {}

  async collect(): Promise<StatusReport> {
    const config = this.configService.config;
    const server = await this.connections.withClient(
      { database: config.maintenanceDatabase },
      async (client) => {
        const version = await client.query<{ server_version: string }>('SHOW server_version');
        const activity = await client.query<{ database: string; count: number }>(
          'SELECT datname AS database, count(*)::int AS count FROM pg_stat_activity WHERE datname IS NOT NULL GROUP BY datname ORDER BY datname',
        );
        return { version: version.rows[0].server_version, connections: activity.rows };
      },
    );
    const rollbackState = new RollbackStateFile(config.backupDir).read();
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

    const expected = new Map<
      string,
      { kind: SchemaKind; societe: string | null; host: string | null; port: number | null }
    >();
    expected.set(config.authDatabase, { kind: 'auth', societe: null, host: null, port: null });
    expected.set(config.sharedDatabase, { kind: 'shared', societe: null, host: null, port: null });
    if (societes.length === 0) {
      expected.set(tenantDatabaseName(config, config.defaultSocieteCode), {
        kind: 'tenant',
        societe: config.defaultSocieteCode.toUpperCase(),
        host: null,
        port: null,
      });
    }
    for (const societe of societes)
      expected.set(societe.database, {
        kind: 'tenant',
        societe: societe.code,
        host: societe.host,
        port: societe.port,
      });
    for (const created of journal?.databases ?? []) {
      if (!expected.has(created.name))
        expected.set(created.name, {
          kind: created.kind,
          societe: created.societeCode,
          host: created.host,
          port: created.port,
        });
    }
    for (const database of rollbackState?.drop ?? []) {
      if (!expected.has(database.name))
        expected.set(database.name, {
          kind: database.kind,
          societe: null,
          host: database.host,
          port: database.port,
        });
    }
    const onDefaultServer = [...expected].filter(([, where]) => !where.host).map(([name]) => name);
    const infos = new Map((await this.admin.list({}, onDefaultServer)).map((info) => [info.name, info]));

    const entries = [...expected];
    const databases = await mapWithConcurrency(
      entries,
      Math.min(8, config.tenantMaxDataSources),
      async ([name, where]) => {
        const info = infos.get(name);
        const closedInfo = info && !info.acceptsConnections ? info : undefined;
        const status: DatabaseStatus = {
          name,
          kind: where.kind,
          societe: where.societe,
          exists: where.host
            ? await this.admin.exists({ database: name, host: where.host, port: where.port })
            : info !== undefined,
          ownedByTool: info?.comment?.startsWith(OWNERSHIP_MARKER) ?? false,
          sizeBytes: info?.sizeBytes ?? null,
          connections: info?.connections ?? 0,
          appliedMigrations: null,
          pendingMigrations: null,
        };
        if (closedInfo) {
          status.closed = true;
          if (rollbackState?.closedDoors.includes(name))
            status.closedBy = 'an interrupted rollback: run npm run db:rollback to finish it';
        } else if (status.exists) {
          try {
            await this.connections.withClient(
              { database: name, host: where.host, port: where.port },
              async (client) => {
                status.appliedMigrations = (await this.schemaMigrations.appliedWith(client)).length;
                status.pendingMigrations = await this.schemaMigrations.pendingWith(client, where.kind);
              },
            );
          } catch (error) {
            status.error = error instanceof Error ? error.message : String(error);
          }
        }
        return status;
      },
    );

    return {
      server: { host: config.host, port: config.port, version: server.version },
      monolith,
      backups: this.backups.list().map(({ manifest: _manifest, ...summary }) => summary),
      online: authClosed
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
        result.status === 'fulfilled'
          ? result.value
          : {
              name: entries[index][0],
              kind: entries[index][1].kind,
              societe: entries[index][1].societe,
              exists: false,
              ownedByTool: false,
              sizeBytes: null,
              connections: 0,
              appliedMigrations: null,
              pendingMigrations: null,
              error: result.reason instanceof Error ? result.reason.message : String(result.reason),
            },
      ),
      connections: server.connections,
      lock,
      rollbackInProgress: rollbackState ? new RollbackStateFile(config.backupDir).path : null,
    };
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
    if (!(await this.admin.exists({ database }))) return empty;
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
