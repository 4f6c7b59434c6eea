/** The PostgreSQL server the tests use, as the global setup published it in the environment. */
export type TestServer = { host: string; port: number; user: string; password: string; embedded: boolean };

export const SERVER_ENV = {
  host: 'TOPSTEEL_TEST_PG_HOST',
  port: 'TOPSTEEL_TEST_PG_PORT',
  user: 'TOPSTEEL_TEST_PG_USER',
  password: 'TOPSTEEL_TEST_PG_PASSWORD',
  embedded: 'TOPSTEEL_TEST_PG_EMBEDDED',
  runId: 'TOPSTEEL_TEST_RUN_ID',
} as const;

export function testServer(): TestServer {
  const host = process.env[SERVER_ENV.host];
  if (!host) throw new Error('the test harness global setup did not run (no TOPSTEEL_TEST_PG_HOST)');
  return {
    host,
    port: Number(process.env[SERVER_ENV.port]),
    user: process.env[SERVER_ENV.user] ?? 'postgres',
    password: process.env[SERVER_ENV.password] ?? '',
    embedded: process.env[SERVER_ENV.embedded] === '1',
  };
}

export function testRunId(): string {
  return process.env[SERVER_ENV.runId] ?? 'local';
}
