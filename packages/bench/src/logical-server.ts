import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from './bench-environment';

const BINARIES = process.env.BENCH_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export type LogicalServer = Server & { folder: string; stop(): void };

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
function asPostgres(binary: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const result = spawnSync(
    root ? 'runuser' : join(BINARIES, binary),
    root ? ['-u', 'postgres', '--', join(BINARIES, binary), ...args] : args,
    { encoding: 'utf8' },
  );
  if (result.status !== 0)
    throw new Error(`${binary} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
}

/**
 * A throwaway PostgreSQL 15 cluster with wal_level = logical for the online scenario (the server
 * the other scenarios measure has wal_level = replica, and changing it needs a restart). Same memory
 * and WAL settings as the system server (shared_buffers 128 MB, max_wal_size 1 GB, fsync on), so
 * that its offline split is comparable with the other scenarios' figures. Trust authentication on
 * 127.0.0.1 only. `stop()` is synchronous so that it can run from an exit handler.
 */
export async function startLogicalServer(): Promise<LogicalServer> {
  if (!existsSync(join(BINARIES, 'pg_ctl')))
    throw new Error(
      `no PostgreSQL 15 server binaries in ${BINARIES} (set BENCH_PG_BIN_DIR): the online scenario needs its own cluster with wal_level=logical`,
    );
  const folder = mkdtempSync(join(tmpdir(), 'topsteel-bench-logical-'));
  const data = join(folder, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(folder, uid, gid);
  }
  chmodSync(folder, 0o700);
  let running = false;
  const stop = () => {
    try {
      if (running) asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
  try {
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    const port = await freePort();
    const settings = [
      'wal_level=logical',
      'max_wal_senders=10',
      'max_replication_slots=10',
      'max_connections=100',
      'shared_buffers=128MB',
      'max_wal_size=1GB',
      `port=${port}`,
      'listen_addresses=127.0.0.1',
      `unix_socket_directories=${folder}`,
    ];
    const options = settings.map((setting) => `-c ${setting}`).join(' ');
    asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(folder, 'server.log'), '-w', 'start']);
    running = true;
    return { host: '127.0.0.1', port, user: 'postgres', password: '', folder, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
