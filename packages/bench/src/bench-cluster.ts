import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from './bench-environment';

/** Where the PostgreSQL server binaries live (Debian layout); BENCH_PG_BIN_DIR overrides it. */
const PG_BIN_DIR = process.env.BENCH_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** A throwaway cluster the bench starts for itself; `stop` (synchronous, for exit handlers) and `remove` delete it. */
export type BenchCluster = Server & { folder: string; stop(): void; remove(): Promise<void> };

export type BenchClusterOptions = {
  /** scram-sha-256 password authentication like a real remote server; trust on 127.0.0.1 when absent. */
  password?: string;
  /** Server settings, passed as `-c name=value` (port, listen address and socket folder are set here). */
  settings?: Record<string, string | number>;
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs a server binary, as the postgres OS user when the bench runs as root (PostgreSQL refuses root). */
function asPostgres(binary: string, args: string[], cwd: string): void {
  const root = process.getuid?.() === 0;
  const result = spawnSync(
    root ? 'runuser' : join(PG_BIN_DIR, binary),
    root ? ['-u', 'postgres', '--', join(PG_BIN_DIR, binary), ...args] : args,
    { encoding: 'utf8', cwd },
  );
  if (result.status !== 0)
    throw new Error(`${binary} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
}

/** A fresh /tmp folder the postgres OS user owns when the bench runs as root. */
function clusterFolder(password?: string): { folder: string; passwordFile?: string } {
  const folder = mkdtempSync(join(tmpdir(), 'topsteel-bench-pg-'));
  const passwordFile = password === undefined ? undefined : join(folder, 'pwfile');
  if (passwordFile) writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(folder, uid, gid);
    if (passwordFile) chownSync(passwordFile, uid, gid);
  }
  chmodSync(folder, 0o700);
  return { folder, passwordFile };
}

/**
 * `initdb` + `pg_ctl` on a free port in a fresh /tmp folder, for the scenarios that need servers of
 * their own (several servers, a move, wal_level=logical). The bench cannot import the test harness
 * (packages never import test/), and it has no embedded fallback on purpose: a benchmark on an
 * embedded server would not measure what the issues ask.
 */
export async function startBenchCluster(options: BenchClusterOptions = {}): Promise<BenchCluster> {
  if (!existsSync(join(PG_BIN_DIR, 'pg_ctl')))
    throw new Error(`no PostgreSQL server binaries in ${PG_BIN_DIR}: install them or set BENCH_PG_BIN_DIR`);
  const { folder, passwordFile } = clusterFolder(options.password);
  const data = join(folder, 'data');
  let running = false;
  const stop = () => {
    try {
      if (running) asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'], folder);
      running = false;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
  try {
    const auth = passwordFile ? ['--auth=scram-sha-256', `--pwfile=${passwordFile}`] : ['--auth=trust'];
    asPostgres(
      'initdb',
      ['-D', data, '-U', 'postgres', ...auth, '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
      folder,
    );
    if (passwordFile) rmSync(passwordFile);
    const port = await freePort();
    const settings = {
      ...options.settings,
      port,
      listen_addresses: '127.0.0.1',
      unix_socket_directories: folder,
    };
    const flags = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
    asPostgres(
      'pg_ctl',
      ['-D', data, '-o', flags.join(' '), '-l', join(folder, 'server.log'), '-w', 'start'],
      folder,
    );
    running = true;
    const password = options.password ?? '';
    return { host: '127.0.0.1', port, user: 'postgres', password, folder, stop, remove: async () => stop() };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Runs `work` on a throwaway cluster, removed afterwards, on failure and on Ctrl-C too. */
export async function withBenchCluster<T>(
  options: BenchClusterOptions,
  work: (cluster: BenchCluster) => Promise<T>,
): Promise<T> {
  const cluster = await startBenchCluster(options);
  const interrupted = (signal: NodeJS.Signals) => {
    cluster.stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await work(cluster);
  } finally {
    // Handlers kept until the cluster is gone: a Ctrl-C during the stop must not leave its folder.
    cluster.stop();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
}
