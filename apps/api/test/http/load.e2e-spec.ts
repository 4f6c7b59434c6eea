import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from './split-fixture';

const SOCIETES = 50;
/** LOAD_ROUNDS (default 4) rounds of 500 requests: more rounds show whether memory settles. */
const ROUNDS = Number(process.env.LOAD_ROUNDS ?? 4);
const REQUESTS = 500 * ROUNDS;
const CONCURRENCY = 16;
const MAX_DATASOURCES = 10;
const TENANT_POOL_SIZE = 2;
const DB_POOL_SIZE = 10;
/** The app may hold at most this many tenant sessions, and this many in all (plus AUTH and SHARED pools). */
const TENANT_CONNECTION_CAP = MAX_DATASOURCES * TENANT_POOL_SIZE;
const TOTAL_CONNECTION_CAP = TENANT_CONNECTION_CAP + 2 * DB_POOL_SIZE;
const HEAP_LIMIT_MB = 128;
/** Allowed RSS growth between the end of the first round (warm) and the end of the last one. */
const RSS_GROWTH_LIMIT = 40 * 1024 * 1024;

const percentile = (sorted: number[], fraction: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Bounded load on loopback: 2,000 requests spread round-robin over 50 sociétés with room for only
 * 10 tenant DataSources, the worst case for the cache (nearly every request evicts one). Every
 * request must succeed, the app's sessions (sampled in pg_stat_activity) must stay under the pool
 * caps, and its RSS must stay flat.
 */
describe('HTTP app under load', () => {
  const environment = TestEnvironment.create('load');
  let fixture: SplitFixture;
  let app: RunningApp;
  const codes = Array.from({ length: SOCIETES }, (_, index) => `LOAD${String(index).padStart(2, '0')}`);

  beforeAll(async () => {
    fixture = await SplitFixture.create(environment);
    const societes = await fixture.societes(codes.map((code) => ({ code, nom: `Société ${code}` })));
    await environment.query(
      environment.names.auth,
      "INSERT INTO users (nom, prenom, email, password, role) VALUES ('Admin', 'Load', $1, $2, 'ADMIN')",
      [ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.hash],
    );
    for (const societe of societes) {
      await fixture.addMember(societe.code, ADMIN_ACCOUNT.email);
      await environment.query(
        societe.database,
        `WITH client AS (
           INSERT INTO clients (nom, numero_client, societe_id)
           SELECT 'Client ' || n, $2 || '-' || n, $1::uuid FROM generate_series(1, 20) n RETURNING id, numero_client)
         INSERT INTO commandes (numero, client_id, societe_id, montant_ht, montant_tva, montant_ttc)
         SELECT numero_client || '-C', id, $1::uuid, 100, 20, 120 FROM client`,
        [societe.societeId, societe.code],
      );
    }
    // Closed now so that every topsteel-* session sampled below belongs to the app.
    await fixture.close();
    app = await RunningApp.start(
      environment.env({
        TENANT_MAX_DATASOURCES: String(MAX_DATASOURCES),
        TENANT_POOL_SIZE: String(TENANT_POOL_SIZE),
        DB_POOL_SIZE: String(DB_POOL_SIZE),
        // A modest heap cap makes V8 collect instead of growing lazily, so RSS reflects live memory
        // and a leak shows up as growth (or as failed requests when the heap runs out).
        NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
      }),
    );
  }, 120000);

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('serves 2,000 requests over 50 sociétés within the connection caps, with flat memory', async () => {
    const token = await app.login(ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.password);
    const monitor = await environment.client('postgres');
    const peaks = { tenant: 0, auth: 0, shared: 0, total: 0 };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const result = await monitor.query<{ tenant: number; auth: number; shared: number; total: number }>(
          `SELECT count(*) FILTER (WHERE application_name LIKE 'topsteel-tenant-%')::int AS tenant,
                  count(*) FILTER (WHERE application_name = 'topsteel-auth')::int AS auth,
                  count(*) FILTER (WHERE application_name = 'topsteel-shared')::int AS shared,
                  count(*)::int AS total
           FROM pg_stat_activity WHERE datname LIKE $1 AND application_name LIKE 'topsteel-%'`,
          [`${environment.prefix}%`],
        );
        const row = result.rows[0];
        for (const key of ['tenant', 'auth', 'shared', 'total'] as const)
          peaks[key] = Math.max(peaks[key], row[key]);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();

    const latencies: number[] = [];
    const failures: string[] = [];
    const rssAfterRound: number[] = [];
    let issued = 0;
    const started = performance.now();
    for (let round = 0; round < ROUNDS; round += 1) {
      const end = ((round + 1) * REQUESTS) / ROUNDS;
      const worker = async () => {
        while (issued < end) {
          const index = issued++;
          const path = index % 2 === 0 ? '/tenant/clients?limit=20' : '/tenant/commandes?limit=20';
          const before = performance.now();
          const response = await app.request<{ items: unknown[] }>(path, {
            token,
            societe: codes[index % SOCIETES],
          });
          latencies.push(performance.now() - before);
          if (response.status !== 200 || response.body.items.length !== 20)
            failures.push(`${index} ${codes[index % SOCIETES]} ${path}: ${response.status}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      rssAfterRound.push(app.rssBytes());
    }
    const elapsed = performance.now() - started;

    // One request at a time: the cost of a cache hit (same société) against a miss (new DataSource).
    const sequential = async (societe: (index: number) => string): Promise<number> => {
      const times: number[] = [];
      for (let index = 0; index < 50; index += 1) {
        const before = performance.now();
        await app.request('/tenant/clients?limit=20', { token, societe: societe(index) });
        times.push(performance.now() - before);
      }
      return (
        Math.round(
          percentile(
            times.sort((a, b) => a - b),
            0.5,
          ) * 10,
        ) / 10
      );
    };
    const warmP50Ms = await sequential(() => codes[0]);
    const coldP50Ms = await sequential((index) => codes[(index * 7) % SOCIETES]);
    const health = await app.request<{ tenantDataSources: { open: number } }>('/health/details', { token });
    sampling = false;
    await sampler;
    await environment.release(monitor);
    const sorted = [...latencies].sort((a, b) => a - b);
    const figures = {
      requests: latencies.length,
      failures: failures.length,
      seconds: Math.round(elapsed) / 1000,
      requestsPerSecond: Math.round(latencies.length / (elapsed / 1000)),
      p50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
      p99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
      sequentialP50Ms: { cacheHit: warmP50Ms, cacheMiss: coldP50Ms },
      peakConnections: peaks,
      caps: { tenant: TENANT_CONNECTION_CAP, total: TOTAL_CONNECTION_CAP },
      rssAfterRound: rssAfterRound.map(megabytes),
      openTenantDataSourcesAfter: health.body.tenantDataSources.open,
    };
    process.stdout.write(`\nload test: ${JSON.stringify(figures, null, 2)}\n`);

    expect(failures).toEqual([]);
    expect(latencies).toHaveLength(REQUESTS);
    expect(peaks.tenant).toBeGreaterThan(0);
    expect(peaks.tenant).toBeLessThanOrEqual(TENANT_CONNECTION_CAP);
    expect(peaks.total).toBeLessThanOrEqual(TOTAL_CONNECTION_CAP);
    expect(health.body.tenantDataSources.open).toBeLessThanOrEqual(MAX_DATASOURCES);
    expect(rssAfterRound[ROUNDS - 1] - rssAfterRound[0]).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 120000);
});
