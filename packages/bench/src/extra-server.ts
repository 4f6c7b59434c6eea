import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Server } from './bench-environment';

const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
const exec = promisify(execFile);

export type ExtraServer = Server & { remove(): Promise<void> };

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
 * A second PostgreSQL server for the move benchmark: `initdb` + `pg_ctl` in a fresh /tmp folder on a
 * free port (as the `postgres` OS user when run as root), scram password, settings of a real server
 * (fsync on), so that the move and pg_restore write to it alike.
 */
export async function startExtraServer(password: string): Promise<ExtraServer> {
  const asRoot = userInfo().uid === 0;
  const parent = mkdtempSync(join(tmpdir(), 'topsteel-bench-pg-'));
  const data = join(parent, 'data');
  const passwordFile = join(parent, 'pwfile');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (asRoot) {
    const uid = Number((await exec('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await exec('id', ['-g', 'postgres'])).stdout.trim());
    chownSync(parent, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  chmodSync(parent, 0o700);
  const as = (binary: string, args: string[]) =>
    asRoot
      ? exec('runuser', ['-u', 'postgres', '--', join(PG_BIN_DIR, binary), ...args], { cwd: parent })
      : exec(join(PG_BIN_DIR, binary), args, { cwd: parent });
  await as('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=scram-sha-256',
    `--pwfile=${passwordFile}`,
    '-E',
    'UTF8',
  ]);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${parent}`, "-c listen_addresses='127.0.0.1'", '-c max_connections=40'];
  await as('pg_ctl', ['-D', data, '-o', options.join(' '), '-l', join(parent, 'server.log'), '-w', 'start']);
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    remove: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
