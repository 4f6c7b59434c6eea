import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { APP, BenchInstallation } from './bench-environment';
import { currentRssMb, figure, Figure, round } from './measure';

export type RoutingFigures = {
  societes: number;
  requests: number;
  concurrency: number;
  maxDataSources: number;
  p50Ms: Figure;
  p99Ms: Figure;
  requestsPerSecond: Figure;
  failures: number;
  /** The app's resident memory after each round: growth from the first to the last is a leak. */
  appRssAfterRoundMb: number[];
};

const ADMIN = { email: 'admin@topsteel.fr', password: 'TopSteel!2025' };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * GET /tenant/clients spread over `societes` sociétés with TENANT_MAX_DATASOURCES below their
 * number, so the tenant DataSource cache keeps evicting: the app's worst case for routing.
 */
export async function routingScenario(
  installation: BenchInstallation,
  codes: string[],
  options: { requests: number; concurrency: number; maxDataSources: number; runs: number },
): Promise<RoutingFigures> {
  // The admin belongs to every société used here.
  await installation.query(
    installation.auth,
    `INSERT INTO societe_users (societe_id, user_id) SELECT s.id, u.id FROM societes s, users u WHERE s.code = ANY($1::text[]) AND u.email = $2 ON CONFLICT DO NOTHING`,
    [codes, ADMIN.email],
  );
  const port = await freePort();
  const app = spawn(process.execPath, [APP], {
    env: installation.env({
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: 'bench-only-secret-0123456789abcdefghij',
      TENANT_MAX_DATASOURCES: String(options.maxDataSources),
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        await fetch(`${base}/health`);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const p50: number[] = [];
    const p99: number[] = [];
    const throughput: number[] = [];
    let failures = 0;
    const appRssAfterRoundMb: number[] = [];
    for (let round = 0; round < options.runs; round++) {
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (next < options.requests) {
            const index = next++;
            const begin = performance.now();
            const response = await fetch(`${base}/tenant/clients?limit=20`, {
              headers: {
                authorization: `Bearer ${accessToken}`,
                'x-societe-id': codes[index % codes.length],
              },
            });
            await response.arrayBuffer();
            latencies.push(performance.now() - begin);
            if (response.status !== 200) failures += 1;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((left, right) => left - right);
      p50.push(percentile(latencies, 50));
      p99.push(percentile(latencies, 99));
      throughput.push(options.requests / seconds);
      const rss = app.pid ? currentRssMb(app.pid) : null;
      if (rss !== null) appRssAfterRoundMb.push(rss);
    }
    return {
      societes: codes.length,
      requests: options.requests,
      concurrency: options.concurrency,
      maxDataSources: options.maxDataSources,
      p50Ms: figure(p50.map(round)),
      p99Ms: figure(p99.map(round)),
      requestsPerSecond: figure(throughput.map((value) => Math.round(value))),
      failures,
      appRssAfterRoundMb,
    };
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('close', resolve));
  }
}
