import { Client } from 'pg';
import { testRunId, testServer } from './test-server';

/** Drops whatever this run left behind (a failed test may skip its own cleanup) and stops the embedded server. */
export default async function globalTeardown(): Promise<void> {
  const server = testServer();
  const client = new Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
  });
  try {
    await client.connect();
    const leftovers = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`tt${testRunId()}\\_%`],
    );
    for (const { datname } of leftovers.rows) {
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const pid = Number(process.env.TOPSTEEL_TEST_EMBEDDED_PID ?? 0);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
}
