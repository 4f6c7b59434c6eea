import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { DataMode, DataModeService } from '../../modules/database/data-mode.service';
import { TenantAccessService } from '../../modules/access/tenant-access.service';
import { ConnectionOpenerService } from '../../modules/database/connection-opener.service';
import { DatabaseAdminService, DatabaseInfo } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import type { TenantPoolStats } from '../../modules/database/tenant-data-source.provider';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';

export type DatabaseHealth = {
  name: string;
  kind: 'auth' | 'shared' | 'tenant' | 'monolith';
  societe?: string;
  server: string;
  reachable: boolean;
  latencyMs?: number;
  /** Sessions open on this database right now (all clients, not only this app). */
  connections: number | null;
  error?: string;
};

export type HealthReport = {
  /** down: AUTH/SHARED (or the monolith) unreachable; degraded: some tenant database is. */
  status: 'ok' | 'degraded' | 'down';
  mode: DataMode;
  checkedAt: string;
  databases: DatabaseHealth[];
  tenantDataSources: TenantPoolStats & { poolSize: number };
};

type Server = { host: string | null; port: number | null };

const reason = (error: unknown): string =>
  isTopsteelException(error) ? error.code : error instanceof Error ? error.message : String(error);

/**
 * GET /health. AUTH and SHARED are pinged through their pools; tenant databases are checked in the
 * catalogue of their server (one query per server) rather than by opening a connection to each,
 * so that a health probe never churns the tenant DataSource cache.
 */
@Injectable()
export class HealthService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly dataMode: DataModeService,
    private readonly opener: ConnectionOpenerService,
    @InjectDataSource('auth') private readonly auth: DataSource,
    @InjectDataSource('shared') private readonly shared: DataSource,
    private readonly admin: DatabaseAdminService,
    private readonly registry: SocieteRegistryService,
    private readonly tenantAccess: TenantAccessService,
  ) {}

  async check(): Promise<HealthReport> {
    const config = this.configService.config;
    const core: DatabaseHealth[] = this.dataMode.isMonolith
      ? [await this.ping('monolith', config.monolithDatabase, () => this.dataMode.monolith())]
      : await Promise.all([
          this.ping('auth', config.authDatabase, () => this.opener.ready(this.auth)),
          this.ping('shared', config.sharedDatabase, () => this.opener.ready(this.shared)),
        ]);
    const tenants: DatabaseHealth[] = [];
    const servers = new Map<DatabaseHealth, Server>();
    if (!this.dataMode.isMonolith && core[0].reachable) {
      for (const societe of await this.registry.list()) {
        const tenant: DatabaseHealth = {
          name: societe.database,
          kind: 'tenant',
          societe: societe.code,
          server: this.serverName(societe),
          reachable: false,
          connections: null,
        };
        tenants.push(tenant);
        servers.set(tenant, { host: societe.host, port: societe.port });
      }
    }
    await this.fillFromCatalogues(core, tenants, servers);
    const coreDown = core.some((database) => !database.reachable);
    return {
      status: coreDown ? 'down' : tenants.some((tenant) => !tenant.reachable) ? 'degraded' : 'ok',
      mode: this.dataMode.mode,
      checkedAt: new Date().toISOString(),
      databases: [...core, ...tenants],
      tenantDataSources: { ...this.tenantAccess.poolStats(), poolSize: config.tenantPoolSize },
    };
  }

  private async ping(
    kind: DatabaseHealth['kind'],
    name: string,
    open: () => Promise<DataSource>,
  ): Promise<DatabaseHealth> {
    const started = performance.now();
    const health: DatabaseHealth = {
      name,
      kind,
      server: this.serverName({}),
      reachable: false,
      connections: null,
    };
    try {
      await (await open()).query('SELECT 1');
      return { ...health, reachable: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
    } catch (error) {
      return { ...health, error: reason(error) };
    }
  }

  /** Connections for every database, and existence for tenants, one catalogue query per server. */
  private async fillFromCatalogues(
    core: DatabaseHealth[],
    tenants: DatabaseHealth[],
    servers: Map<DatabaseHealth, Server>,
  ): Promise<void> {
    const byServer = new Map<string, { server: Server; databases: DatabaseHealth[] }>();
    const add = (server: Server, database: DatabaseHealth) => {
      const key = this.serverName(server);
      const group = byServer.get(key) ?? { server, databases: [] };
      group.databases.push(database);
      byServer.set(key, group);
    };
    for (const database of core) add({ host: null, port: null }, database);
    for (const tenant of tenants) add(servers.get(tenant) ?? { host: null, port: null }, tenant);
    await Promise.all(
      [...byServer.values()].map(async ({ server, databases }) => {
        let infos: DatabaseInfo[];
        try {
          infos = await this.admin.list(
            server,
            databases.map((database) => database.name),
          );
        } catch (error) {
          for (const database of databases.filter((entry) => entry.kind === 'tenant'))
            database.error = reason(error);
          return;
        }
        const found = new Map(infos.map((info) => [info.name, info]));
        for (const database of databases) {
          const info = found.get(database.name);
          database.connections = info?.connections ?? null;
          if (database.kind === 'tenant') {
            database.reachable = info?.acceptsConnections === true;
            if (!database.reachable) database.error = 'database missing or not accepting connections';
          }
        }
      }),
    );
  }

  private serverName(server: { host?: string | null; port?: number | null }): string {
    const config = this.configService.config;
    return `${server.host || config.host}:${server.port || config.port}`;
  }
}
