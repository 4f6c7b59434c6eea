import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from './split-fixture';

const SOCIETES = 50;
const REQUESTS = 2000;
const CONCURRENCY = 16;
const MAX_DATASOURCES = 10;
const TENANT_POOL_SIZE = 2;
const DB_POOL_SIZE = 10;
/** The app may hold at most this many tenant sessions, and this many in all (plus AUTH and SHARED pools). */
const TENANT_CONNECTION_CAP = MAX_DATASOURCES * TENANT_POOL_SIZE;
const TOTAL_CONNECTION_CAP = TENANT_CONNECTION_CAP + 2 * DB_POOL_SIZE;
const HEAP_LIMIT_MB = 128;

/**
 * Bounded load on loopback: 2,000 requests spread round-robin over 50 sociétés with room for only
 * 10 tenant DataSources, the worst case for the cache (nearly every request evicts one). Every
 * request must succeed and the app's sessions (sampled in pg_stat_activity) must stay under the pool
 * caps. The app's memory over time is a figure for `npm run bench` (routing), not an assertion here.
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
        // A modest heap cap: a leak per request or per evicted DataSource runs the heap out within
        // 2,000 requests, and shows here as failed requests.
        NODE_OPTIONS: `--max-old-space-size=${HEAP_LIMIT_MB}`,
      }),
    );
  }, 120000);

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('serves 2,000 requests over 50 sociétés within the connection caps', async () => {
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

    const failures: string[] = [];
    let issued = 0;
    let served = 0;
    const worker = async () => {
      while (issued < REQUESTS) {
        const index = issued++;
        const path = index % 2 === 0 ? '/tenant/clients?limit=20' : '/tenant/commandes?limit=20';
        const response = await app.request<{ items: unknown[] }>(path, {
          token,
          societe: codes[index % SOCIETES],
        });
        served += 1;
        if (response.status !== 200 || response.body.items.length !== 20)
          failures.push(`${index} ${codes[index % SOCIETES]} ${path}: ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const health = await app.request<{ tenantDataSources: { open: number } }>('/health/details', { token });
    sampling = false;
    await sampler;
    await environment.release(monitor);

    expect(failures).toEqual([]);
    expect(served).toBe(REQUESTS);
    expect(peaks.tenant).toBeGreaterThan(0);
    expect(peaks.tenant).toBeLessThanOrEqual(TENANT_CONNECTION_CAP);
    expect(peaks.total).toBeLessThanOrEqual(TOTAL_CONNECTION_CAP);
    expect(health.body.tenantDataSources.open).toBeLessThanOrEqual(MAX_DATASOURCES);
  }, 120000);
});
