import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
 * compiled helper, so that Jest never has to load the ES-module package itself.
 */
export async function startEmbeddedServer(password: string): Promise<EmbeddedServer> {
  const parent = mkdtempSync(join(tmpdir(), 'topsteel-test-pg-'));
  // As root the server runs as the postgres OS user, which must be able to reach the data folder.
  chmodSync(parent, 0o755);
  const directory = join(parent, 'data');
  const child = spawn(
    process.execPath,
    [join(__dirname, '../../apps/api/dist/common/embedded/embedded-postgres.main.js'), '--dir', directory],
    {
      env: { ...process.env, EMBEDDED_PG_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) =>
      reject(new Error(`embedded PostgreSQL exited with ${code}; run "npm run build" first`)),
    );
  });
  child.unref();
  const ready = JSON.parse(line) as { host: string; port: number; user: string };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return { ...ready, password, pid: child.pid ?? 0, stop };
}
