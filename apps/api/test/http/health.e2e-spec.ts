import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { ACCOUNTS, PASSWORD, seedSecuredSplit, startApp } from './secured-app';

const DB_POOL_SIZE = 3;
/** HEALTH_BURST lowers the burst when checking the old code, whose probes open unpooled sessions. */
const BURST = Number(process.env.HEALTH_BURST ?? 500);

/**
 * Issue 14, defect 3: the public /health says only whether the app can serve, from pooled
 * connections; the detailed report is for ADMIN users only.
 */
describe('GET /health', () => {
  const environment = TestEnvironment.create('httphealth');
  // The app's maintenance sessions land here too, so every session it opens is on our databases.
  const maintenance = `${environment.prefix}_maintenance`;
  let app: RunningApp;

  beforeAll(async () => {
    await seedSecuredSplit(environment);
    await environment.query('postgres', `CREATE DATABASE ${maintenance}`);
    app = await startApp(environment, {
      DB_POOL_SIZE: String(DB_POOL_SIZE),
      DB_MAINTENANCE_NAME: maintenance,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('answers only status, mode and version without a token', async () => {
    const response = await app.request<Record<string, unknown>>('/health');
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['mode', 'status', 'version']);
    expect(response.body).toMatchObject({ status: 'ok', mode: 'multi-tenant' });
    expect(typeof response.body.version).toBe('string');
    const text = JSON.stringify(response.body);
    for (const secret of [environment.prefix, 'ACME', 'TOPSTEEL', '5432', '127.0.0.1'])
      expect(text).not.toContain(secret);
  });

  it(`keeps the app's sessions within its pools under a burst of ${BURST} concurrent calls`, async () => {
    const monitor = await environment.client('postgres');
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const result = await monitor.query<{ sessions: number }>(
          `SELECT count(*)::int AS sessions FROM pg_stat_activity
           WHERE datname LIKE $1 AND application_name LIKE 'topsteel-%'`,
          [`${environment.prefix}%`],
        );
        peak = Math.max(peak, result.rows[0].sessions);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: BURST }, () =>
        fetch(`${app.baseUrl}/health`).then(async (response) => ({
          status: response.status,
          body: (await response.json()) as Record<string, unknown>,
        })),
      ),
    );
    sampling = false;
    await sampler;
    await environment.release(monitor);
    expect(answers.filter((answer) => answer.status !== 200 || answer.body.status !== 'ok')).toEqual([]);
    expect(peak).toBeGreaterThan(0);
    // AUTH and SHARED pools; the public probe never touches a tenant or opens an unpooled session.
    expect(peak).toBeLessThanOrEqual(2 * DB_POOL_SIZE);
  });

  it('keeps the detailed report for ADMIN users at /health/details', async () => {
    expect((await app.request('/health/details')).status).toBe(401);
    const operator = await app.login(ACCOUNTS.operator.email, PASSWORD);
    expect((await app.request('/health/details', { token: operator })).status).toBe(403);
    const admin = await app.login(ACCOUNTS.admin.email, PASSWORD);
    const details = await app.request<{ status: string; databases: { kind: string; name: string }[] }>(
      '/health/details',
      { token: admin },
    );
    expect(details.status).toBe(200);
    expect(details.body.status).toBe('ok');
    expect(details.body.databases.map((database) => [database.kind, database.name])).toEqual([
      ['auth', environment.names.auth],
      ['shared', environment.names.shared],
      ['tenant', `${environment.prefix}_acme`],
      ['tenant', `${environment.prefix}_topsteel`],
    ]);
  });
});
