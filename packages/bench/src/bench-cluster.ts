import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Server } from './bench-environment';

const run = promisify(execFile);

/** Where the PostgreSQL server binaries live (Debian layout); BENCH_PG_BIN_DIR overrides it. */
const PG_BIN_DIR = process.env.BENCH_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/** A throwaway cluster the bench starts for itself; `remove` stops it and deletes its folder. */
export type BenchCluster = Server & { folder: string; remove(): Promise<void> };

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

/**
 * `initdb` + `pg_ctl` on a free port in a fresh /tmp folder, password (scram) authentication like
 * a real remote server. The bench cannot import the test harness (packages never import test/), so
 * this is its own small copy of it, without the embedded fallback: a benchmark on an embedded
 * server would not measure what the issue asks. PostgreSQL refuses to run as root, so as root the
 * binaries run as the `postgres` OS user.
 */
export async function startBenchCluster(password: string, maxConnections: number): Promise<BenchCluster> {
  if (!existsSync(join(PG_BIN_DIR, 'initdb')))
    throw new Error(
      `${PG_BIN_DIR}/initdb not found: install the PostgreSQL server binaries or set BENCH_PG_BIN_DIR`,
    );
  const asRoot = userInfo().uid === 0;
  const folder = mkdtempSync(join(tmpdir(), 'topsteel-bench-pg-'));
  const data = join(folder, 'data');
  const passwordFile = join(folder, 'pwfile');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(folder, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  chmodSync(folder, 0o700);
  const as = (binary: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN_DIR, binary), ...args], { cwd: folder })
      : run(join(PG_BIN_DIR, binary), args, { cwd: folder });
  const stop = () => as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  const remove = async () => {
    await stop();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    await as(
      'initdb',
      ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`].concat([
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C',
      ]),
    );
    rmSync(passwordFile);
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${folder}`,
      "-c listen_addresses='127.0.0.1'",
      `-c max_connections=${maxConnections}`,
      '-c shared_buffers=32MB',
      // A throwaway cluster: durability would only measure this machine's disk.
      '-c fsync=off',
    ].join(' ');
    await as('pg_ctl', ['-D', data, '-o', options, '-l', join(folder, 'server.log'), '-w', 'start']);
    return { host: '127.0.0.1', port, user: 'postgres', password, folder, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
