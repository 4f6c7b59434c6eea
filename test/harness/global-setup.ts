import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { startEmbeddedServer } from './embedded-server';
import { SERVER_ENV } from './test-server';

type Candidate = { host: string; port: number; user: string; password?: string };

function candidateFromEnvironment(): Candidate {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const parsed = new URL(url);
    return {
      host: parsed.hostname,
      port: Number(parsed.port || 5432),
      user: decodeURIComponent(parsed.username || 'postgres'),
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    };
  }
  return {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    password: process.env.PGPASSWORD,
  };
}

async function answers(candidate: Candidate): Promise<boolean> {
  const client = new Client({ ...candidate, database: 'postgres', connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Finds the PostgreSQL the tests will use: the one named by TEST_DATABASE_URL or PG* when it
 * answers, otherwise an embedded server started here (stopped by the global teardown). Publishes
 * it in the environment that the test workers and their child processes inherit.
 */
export default async function globalSetup(): Promise<void> {
  const runId = randomBytes(3).toString('hex');
  const candidate = candidateFromEnvironment();
  // With trust authentication any password works: use a recognisable one so leak tests can look for it.
  const recognisable = `S3cret-Topsteel-${randomBytes(4).toString('hex')}`;
  let server: Candidate & { embedded: boolean };
  if (await answers(candidate)) {
    server = { ...candidate, password: candidate.password ?? recognisable, embedded: false };
  } else {
    process.stderr.write(
      `\nNo PostgreSQL answers on ${candidate.host}:${candidate.port}; starting an embedded one.\n`,
    );
    const embedded = await startEmbeddedServer(recognisable);
    process.env.TOPSTEEL_TEST_EMBEDDED_PID = String(embedded.pid);
    server = { ...embedded, embedded: true };
  }
  process.env[SERVER_ENV.host] = server.host;
  process.env[SERVER_ENV.port] = String(server.port);
  process.env[SERVER_ENV.user] = server.user;
  process.env[SERVER_ENV.password] = server.password;
  process.env[SERVER_ENV.embedded] = server.embedded ? '1' : '0';
  process.env[SERVER_ENV.runId] = runId;
}
