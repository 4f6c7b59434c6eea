import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { freeBytes } from '../../common/fs/free-bytes';
import { TenantAccessService } from '../../modules/access/tenant-access.service';
import { ConnectionOpenerService } from '../../modules/database/connection-opener.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { DataModeService } from '../../modules/database/data-mode.service';
import { SocieteRegistryService } from '../../modules/societes/societe-registry.service';

/** Database sizes cost a query per server: collected in the background, never per scrape. */
export const SIZE_INTERVAL_MS = 60_000;

/**
 * The app's Prometheus metrics: request durations by route and status, tenant DataSources, pool
 * sessions per database and process memory are read from memory at scrape time; database sizes
 * and free disk are refreshed in the background at most once a minute.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly registry = new Registry();
  readonly #requests: Histogram<'route' | 'method' | 'status'>;
  readonly #databaseSize: Gauge<'database' | 'kind'>;
  readonly #diskFree: Gauge<'path'>;
  readonly #sizeErrors: Counter;
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly opener: ConnectionOpenerService,
    private readonly tenantAccess: TenantAccessService,
    private readonly dataMode: DataModeService,
    private readonly registryService: SocieteRegistryService,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'topsteel_' });
    this.#requests = new Histogram({
      name: 'topsteel_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.#databaseSize = new Gauge({
      name: 'topsteel_database_size_bytes',
      help: 'Size of each database of the installation (refreshed at most once a minute)',
      labelNames: ['database', 'kind'],
      registers: [this.registry],
    });
    this.#diskFree = new Gauge({
      name: 'topsteel_disk_free_bytes',
      help: "Free bytes on the app's log and backup file systems (PostgreSQL does not report its own disk)",
      labelNames: ['path'],
      registers: [this.registry],
    });
    this.#sizeErrors = new Counter({
      name: 'topsteel_metrics_collection_errors_total',
      help: 'Background collections of database sizes that failed',
      registers: [this.registry],
    });
    this.registerPoolGauges();
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.observe({ route, method, status: String(status) }, seconds);
  }

  onApplicationBootstrap(): void {
    void this.collectSizes();
    this.#timer = setInterval(() => void this.collectSizes(), SIZE_INTERVAL_MS);
    this.#timer.unref();
  }

  onModuleDestroy(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  private registerPoolGauges(): void {
    const tenantAccess = this.tenantAccess;
    const opener = this.opener;
    new Gauge({
      name: 'topsteel_tenant_datasources_open',
      help: 'Tenant DataSources open in the cache',
      registers: [this.registry],
      collect() {
        this.set(tenantAccess.poolStats().open);
      },
    });
    new Gauge({
      name: 'topsteel_tenant_datasources_evicted',
      help: 'Tenant DataSources closed by the cache since start (LRU or idle)',
      registers: [this.registry],
      collect() {
        this.set(tenantAccess.poolStats().evicted);
      },
    });
    new Gauge({
      name: 'topsteel_pool_connections',
      help: "Sessions of the app's pools per database, by state",
      labelNames: ['database', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const pool of [...opener.pools(), ...(await tenantAccess.poolCounts())]) {
          this.set({ database: pool.database, state: 'total' }, pool.total);
          this.set({ database: pool.database, state: 'idle' }, pool.idle);
          this.set({ database: pool.database, state: 'waiting' }, pool.waiting);
        }
      },
    });
  }

  /** One query for every database of the installation, on a pool the app already holds. */
  private async collectSizes(): Promise<void> {
    const config = this.configService.config;
    for (const [path, folder] of [
      ['logs', config.logDir],
      ['backups', config.backupDir],
    ] as const) {
      const free = freeBytes(folder);
      if (free !== null) this.#diskFree.set({ path }, free);
    }
    try {
      const names = this.dataMode.isMonolith
        ? [{ database: config.monolithDatabase, kind: 'monolith' }]
        : [
            { database: config.authDatabase, kind: 'auth' },
            { database: config.sharedDatabase, kind: 'shared' },
            ...(await this.registryService.list()).map((societe) => ({
              database: societe.database,
              kind: 'tenant',
            })),
          ];
      const dataSource = this.dataMode.isMonolith
        ? await this.dataMode.monolith()
        : await this.opener.open('auth');
      const rows = await dataSource.query<{ datname: string; size: string }[]>(
        'SELECT datname, pg_database_size(datname) AS size FROM pg_database WHERE datname = ANY($1) AND datallowconn',
        [names.map((name) => name.database)],
      );
      this.#databaseSize.reset();
      for (const row of rows) {
        const kind = names.find((name) => name.database === row.datname)?.kind ?? 'tenant';
        this.#databaseSize.set({ database: row.datname, kind }, Number(row.size));
      }
    } catch {
      // A database down now is /health's business; the gauges keep their last values.
      this.#sizeErrors.inc();
    }
  }
}
