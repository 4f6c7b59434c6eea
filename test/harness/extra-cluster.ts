import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmbeddedServer } from './embedded-server';

const run = promisify(execFile);

/** Where the PostgreSQL server binaries live on this machine (Debian layout). */
export const PG_BIN_DIR = process.env.TEST_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL cluster for tests that need more than one server. */
export type ExtraCluster = {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Stops the server (immediate shutdown), keeping its data: `start` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data folder. */
  remove(): Promise<void>;
};

/** A port nobody listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts an extra cluster: `initdb` + `pg_ctl` from PG_BIN_DIR on a free port in a fresh /tmp folder
 * (as the `postgres` OS user when the tests run as root, since PostgreSQL refuses to run as root),
 * password authentication with `password`; an embedded instance when the binaries are missing.
 */
export async function startExtraCluster(password: string): Promise<ExtraCluster> {
  if (!existsSync(join(PG_BIN_DIR, 'initdb'))) return embeddedCluster(password);
  const asRoot = userInfo().uid === 0;
  const parent = mkdtempSync(join(tmpdir(), 'topsteel-extra-pg-'));
  const data = join(parent, 'data');
  const passwordFile = join(parent, 'pwfile');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    chownSync(parent, Number(stdout.trim()), Number(group.trim()));
    chownSync(passwordFile, Number(stdout.trim()), Number(group.trim()));
  }
  chmodSync(parent, 0o700);
  const as = (binary: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN_DIR, binary), ...args], { cwd: parent })
      : run(join(PG_BIN_DIR, binary), args, { cwd: parent });
  await as('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${passwordFile}`,
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${parent}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=40',
    '-c shared_buffers=16MB',
    '-c fsync=off',
  ].join(' ');
  const start = async () => {
    await as('pg_ctl', ['-D', data, '-o', options, '-l', join(parent, 'server.log'), '-w', 'start']);
  };
  const stop = async () => {
    await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    start,
    stop,
    remove: async () => {
      await stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

async function embeddedCluster(password: string): Promise<ExtraCluster> {
  const server = await startEmbeddedServer(password);
  const unsupported = async () => {
    throw new Error('an embedded extra cluster cannot be stopped and restarted; install the server binaries');
  };
  return { ...server, start: unsupported, stop: unsupported, remove: () => server.stop() };
}
