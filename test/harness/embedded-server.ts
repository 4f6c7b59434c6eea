import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';

export type EmbeddedServer = {
  host: string;
  port: number;
  user: string;
  password: string;
  pid: number;
  stop(): Promise<void>;
};

/**
 * Starts an embedded PostgreSQL (scram-sha-256, the given password) in its own process from the
 * compiled helper, so that Jest never has to load the ES-module package itself. `settings` are
 * server settings as `name=value` (e.g. `wal_level=logical`). Stopping it removes its folder.
 */
export async function startEmbeddedServer(
  password: string,
  settings: string[] = [],
): Promise<EmbeddedServer> {
  const parent = mkdtempSync(join(tmpdir(), 'topsteel-test-pg-'));
  // As root the server runs as the postgres OS user, which must be able to reach the data folder.
  chmodSync(parent, 0o755);
  const directory = join(parent, 'data');
  const helper = join(__dirname, '../../apps/api/dist/common/embedded/embedded-postgres.main.js');
  if (!existsSync(helper)) throw new Error(`${helper} is missing: run "npm run build" first`);
  const flags = settings.flatMap((setting) => ['--setting', setting]);
  const child = spawn(process.execPath, [helper, '--dir', directory, ...flags], {
    env: { ...process.env, EMBEDDED_PG_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // The helper's own sentence says why it stopped (e.g. a folder the postgres OS user cannot enter).
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(stderr.trim() || `embedded PostgreSQL exited with ${code} without saying why`)),
    );
  });
  // Ready: later output is not needed, and the pipe must not keep the test process alive.
  child.stderr.removeAllListeners('data');
  child.stderr.resume();
  (child.stderr as Socket).unref();
  child.unref();
  const ready = JSON.parse(line) as { host: string; port: number; user: string };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(parent, { recursive: true, force: true });
  };
  return { ...ready, password, pid: child.pid ?? 0, stop };
}
