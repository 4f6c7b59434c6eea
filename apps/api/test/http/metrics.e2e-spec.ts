import { runNpmScript } from '../../../../test/harness/cli';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics', () => {
  const environment = TestEnvironment.create('metrics');
  let app: RunningApp;

  beforeAll(async () => {
    await environment.createMonolith();
    expect((await runNpmScript('db:migrate', [], environment.env())).code).toBe(0);
    app = await RunningApp.start(environment.env({ METRICS_TOKEN: TOKEN }));
  });
  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  const scrape = async (token?: string) => {
    const response = await fetch(`${app.baseUrl}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      text: await response.text(),
      type: response.headers.get('content-type'),
    };
  };

  it('refuses a scrape without the bearer or with a wrong one (401), and tells nothing', async () => {
    for (const token of [undefined, 'wrong-token-0123456789abcdef', `${TOKEN}x`]) {
      const response = await scrape(token);
      expect(response.status).toBe(401);
      expect(response.text).not.toContain('topsteel_');
    }
  });

  it('shows request durations by route and status, pools, tenant DataSources, memory and database sizes', async () => {
    await app.request('/health');
    await app.request('/tenant/clients');
    // Sizes are collected in the background right after start-up, then once a minute.
    let response = await scrape(TOKEN);
    for (
      let attempt = 0;
      attempt < 50 && !response.text.includes('topsteel_database_size_bytes{');
      attempt += 1
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      response = await scrape(TOKEN);
    }
    expect(response.status).toBe(200);
    expect(response.type).toContain('text/plain');
    expect(response.text).toMatch(
      /topsteel_http_request_duration_seconds_count\{route="\/health",method="GET",status="200"\} [1-9]/,
    );
    expect(response.text).toMatch(
      /topsteel_http_request_duration_seconds_count\{route="\/tenant\/clients",method="GET",status="401"\} 1/,
    );
    expect(response.text).toMatch(/topsteel_pool_connections\{database="[^"]+_auth",state="total"\} [1-9]/);
    expect(response.text).toMatch(/^topsteel_tenant_datasources_open 0$/m);
    expect(response.text).toMatch(/^topsteel_process_resident_memory_bytes [1-9]/m);
    expect(response.text).toContain(
      `topsteel_database_size_bytes{database="${environment.names.defaultTenant}",kind="tenant"}`,
    );
    expect(response.text).toMatch(/topsteel_disk_free_bytes\{path="logs"\} [1-9]/);
  });

  it('does not exist when METRICS_TOKEN is unset', async () => {
    const bare = await RunningApp.start(environment.env());
    try {
      const response = await fetch(`${bare.baseUrl}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
