import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { safeIdentifier } from '../../common/identifiers/identifier';
import { TENANT_ENTITIES } from '../../database/entities/entity-lists';
import { ConnectionOpenerService } from './connection-opener.service';
import { createDataSource } from './data-source.factory';
import { DatabaseConfigService } from './database-config.service';
import { DatabaseException, DatabaseExceptionCode, translateDatabaseError } from './database.exception';
import { PoolCounts, poolCounts } from './pool-counts';
import { PostgresConnectionFactory } from './postgres-connection.factory';
import { serverColumn, TenantLocation } from './tenant-location';

export { serverColumn } from './tenant-location';
export type { TenantLocation } from './tenant-location';

type Entry = {
  key: string;
  /** The server this DataSource connects to, for the per-server cap. */
  serverKey: string;
  location: TenantLocation;
  opening: Promise<DataSource>;
  leases: number;
  lastUsed: number;
};

export type TenantPoolStats = { open: number; leased: number; max: number; evicted: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The only place that opens tenant connections. It resolves a société to its database (on the
 * server named in `societes`, whose address comes from TENANT_SERVERS), keeps at most
 * TENANT_MAX_DATASOURCES DataSources with a TENANT_POOL_SIZE pool each, and at most
 * TENANT_SERVER_MAX_CONNECTIONS connections on any one server, de-duplicates concurrent
 * openings, evicts the least recently used idle one when full (a caller waits when every one is in
 * use rather than exceeding the cap), closes idle ones after TENANT_IDLE_TIMEOUT_MS, and closes all
 * on shutdown.
 */
@Injectable()
export class TenantDataSourceProvider implements OnModuleDestroy {
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  #waiters: (() => void)[] = [];
  #idleTimer?: NodeJS.Timeout;
  #evicted = 0;

  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly opener: ConnectionOpenerService,
    @InjectDataSource('auth') private readonly auth: DataSource,
  ) {}

  /** Finds a société by id or code in AUTH. */
  async resolve(societe: string): Promise<TenantLocation> {
    const auth = await this.opener.ready(this.auth);
    const byId = UUID.test(societe);
    const rows = await auth.query<
      {
        id: string;
        code: string;
        database_name: string;
        database_host: string | null;
        database_port: number | null;
        database_server: string | null;
      }[]
    >(
      `SELECT id, code, database_name, database_host, database_port, ${serverColumn()} FROM societes
       WHERE ${byId ? 'id = $1::uuid' : 'lower(code) = lower($1)'} AND deleted_at IS NULL`,
      [societe],
    );
    const row = rows[0];
    if (!row) {
      throw new DatabaseException(
        DatabaseExceptionCode.SocieteNotFound,
        `no société "${societe}" in ${this.configService.config.authDatabase}`,
      );
    }
    return {
      societeId: row.id,
      code: row.code,
      database: safeIdentifier(row.database_name, `database name of société ${row.code}`),
      server: row.database_server,
      host: row.database_host,
      port: row.database_port,
    };
  }

  /** Runs `work` with the tenant's DataSource; the DataSource cannot be evicted while in use. */
  async withTenantDataSource<T>(
    location: TenantLocation,
    work: (dataSource: DataSource) => Promise<T>,
  ): Promise<T> {
    const entry = await this.acquire(location);
    try {
      return await work(await entry.opening);
    } finally {
      this.release(entry);
    }
  }

  stats(): TenantPoolStats {
    const entries = [...this.#entries.values()];
    return {
      open: entries.length,
      leased: entries.filter((entry) => entry.leases > 0).length,
      max: this.configService.config.tenantMaxDataSources,
      evicted: this.#evicted,
    };
  }

  /** Sessions of each open tenant pool, for /metrics. */
  async pools(): Promise<PoolCounts[]> {
    const dataSources = await Promise.all(
      [...this.#entries.values()].map((entry) => entry.opening.catch(() => undefined)),
    );
    return dataSources.flatMap((dataSource) => poolCounts(dataSource) ?? []);
  }

  /** Closes DataSources unused for longer than the idle timeout; returns how many were closed. */
  async evictIdle(now = Date.now()): Promise<number> {
    const idleTimeout = this.configService.config.tenantIdleTimeoutMs;
    const idle = [...this.#entries.values()].filter(
      (entry) => entry.leases === 0 && now - entry.lastUsed >= idleTimeout,
    );
    await Promise.all(idle.map((entry) => this.evict(entry)));
    return idle.length;
  }

  async closeAll(): Promise<void> {
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    this.#idleTimer = undefined;
    await Promise.all([...this.#entries.values()].map((entry) => this.evict(entry)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.closeAll();
  }

  private keyOf(location: TenantLocation): string {
    return `${this.serverKeyOf(location)}/${location.database}`;
  }

  private serverKeyOf(location: TenantLocation): string {
    const server = this.connections.server(location);
    return `${server.host}:${server.port}`;
  }

  /** Pool size and DataSource count per server such that their product stays within the server cap. */
  private perServer(): { poolSize: number; dataSources: number } {
    const config = this.configService.config;
    const poolSize = Math.min(config.tenantPoolSize, config.tenantServerMaxConnections);
    return { poolSize, dataSources: Math.max(1, Math.floor(config.tenantServerMaxConnections / poolSize)) };
  }

  /** The least recently used idle DataSource to close so that one more fits, undefined to wait. */
  private victimFor(serverKey: string): Entry | undefined | null {
    const entries = [...this.#entries.values()];
    const onServer = entries.filter((entry) => entry.serverKey === serverKey);
    if (onServer.length >= this.perServer().dataSources) return onServer.find((entry) => entry.leases === 0);
    if (entries.length >= this.configService.config.tenantMaxDataSources)
      return entries.find((entry) => entry.leases === 0);
    return null;
  }

  private async acquire(location: TenantLocation): Promise<Entry> {
    const key = this.keyOf(location);
    for (;;) {
      const existing = this.#entries.get(key);
      if (existing) {
        this.#entries.delete(key);
        this.#entries.set(key, existing);
        existing.leases += 1;
        existing.lastUsed = Date.now();
        try {
          await existing.opening;
        } catch (error) {
          this.release(existing);
          throw error;
        }
        return existing;
      }
      const victim = this.victimFor(this.serverKeyOf(location));
      if (victim === undefined) {
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
        continue;
      }
      if (victim) {
        await this.evict(victim);
        continue;
      }
      return this.open(key, location);
    }
  }

  private async open(key: string, location: TenantLocation): Promise<Entry> {
    const config = this.configService.config;
    const dataSource = createDataSource(this.connections, location, {
      poolSize: this.perServer().poolSize,
      entities: TENANT_ENTITIES,
      applicationName: `topsteel-tenant-${location.code}`,
      idleTimeoutMs: Math.min(config.tenantIdleTimeoutMs, 30000),
    });
    const entry: Entry = {
      key,
      serverKey: this.serverKeyOf(location),
      location,
      opening: dataSource.initialize().catch((error: unknown) => {
        throw translateDatabaseError(error, this.connections.describe(location));
      }),
      leases: 1,
      lastUsed: Date.now(),
    };
    this.#entries.set(key, entry);
    this.startIdleTimer();
    try {
      await entry.opening;
    } catch (error) {
      this.#entries.delete(key);
      this.release(entry);
      throw error;
    }
    return entry;
  }

  private release(entry: Entry): void {
    entry.leases = Math.max(0, entry.leases - 1);
    entry.lastUsed = Date.now();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  private async evict(entry: Entry): Promise<void> {
    if (this.#entries.get(entry.key) === entry) {
      this.#entries.delete(entry.key);
      this.#evicted += 1;
    }
    const dataSource = await entry.opening.catch(() => undefined);
    // A pool that is already ended (evicted twice, or its server went away) is not an error here.
    if (dataSource?.isInitialized) await dataSource.destroy().catch(() => undefined);
  }

  private startIdleTimer(): void {
    if (this.#idleTimer) return;
    const interval = Math.max(1000, Math.min(60000, this.configService.config.tenantIdleTimeoutMs / 2));
    this.#idleTimer = setInterval(() => void this.evictIdle(), interval);
    this.#idleTimer.unref();
  }
}
