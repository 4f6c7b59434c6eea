import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { safeIdentifier } from '../../common/identifiers/identifier';
import { TENANT_ENTITIES } from '../../database/entities/entity-lists';
import { ConnectionOpenerService } from './connection-opener.service';
import { createDataSource } from './data-source.factory';
import { DatabaseConfigService } from './database-config.service';
import { DatabaseException, DatabaseExceptionCode, translateDatabaseError } from './database.exception';
import { PostgresConnectionFactory } from './postgres-connection.factory';

/** Where a société's data lives, as AUTH's `societes` records it. */
export type TenantLocation = {
  societeId: string;
  code: string;
  database: string;
  host: string | null;
  port: number | null;
};

type Entry = {
  key: string;
  location: TenantLocation;
  opening: Promise<DataSource>;
  leases: number;
  lastUsed: number;
};

export type TenantPoolStats = { open: number; leased: number; max: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The only place that opens tenant connections. It resolves a société to its database (honouring
 * the host/port recorded in `societes`, so tenants can live on several servers), keeps at most
 * TENANT_MAX_DATASOURCES DataSources with a TENANT_POOL_SIZE pool each, de-duplicates concurrent
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
      }[]
    >(
      `SELECT id, code, database_name, database_host, database_port FROM societes
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
    };
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
    return `${location.host ?? ''}:${location.port ?? ''}/${location.database}`;
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
      if (this.#entries.size >= this.configService.config.tenantMaxDataSources) {
        const victim = [...this.#entries.values()].find((entry) => entry.leases === 0);
        if (!victim) {
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
          continue;
        }
        await this.evict(victim);
        continue;
      }
      return this.open(key, location);
    }
  }

  private async open(key: string, location: TenantLocation): Promise<Entry> {
    const config = this.configService.config;
    const dataSource = createDataSource(this.connections, location, {
      poolSize: config.tenantPoolSize,
      entities: TENANT_ENTITIES,
      applicationName: `topsteel-tenant-${location.code}`,
      idleTimeoutMs: Math.min(config.tenantIdleTimeoutMs, 30000),
    });
    const entry: Entry = {
      key,
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
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
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
