import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAccount } from '../../src/common/embedded/postgres-account';
import { collectRun, REPOSITORY_ROOT } from '../../../../test/harness/cli';

/**
 * As root, the embedded PostgreSQL runs as the `postgres` OS user. A checkout under a folder that
 * user cannot enter (root's home, a `mktemp -d` folder) must stop with one sentence saying why and
 * what to do, never an unhandled `spawn … EACCES`. Only meaningful as root with that account.
 */
const asRoot = process.getuid?.() === 0 && postgresAccount() !== undefined;

(asRoot ? describe : describe.skip)('the embedded server from a checkout others cannot enter', () => {
  const closed = mkdtempSync(join(tmpdir(), 'topsteel-closed-'));
  const checkout = join(closed, 'checkout');
  // Nothing from the test run may leak in: with no server configured the demo goes embedded.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(PG|DB_|TENANT_|BACKUP_DIR|LOG_DIR)/.test(name)),
  );

  beforeAll(() => {
    expect(statSync(closed).mode & 0o777).toBe(0o700);
    mkdirSync(checkout);
    // Hard links: a full copy of the built checkout in seconds, same files, new folders.
    const copy = spawnSync('cp', ['-al', 'package.json', 'node_modules', 'apps', 'packages', checkout], {
      cwd: REPOSITORY_ROOT,
    });
    expect(copy.status).toBe(0);
  });
  afterAll(() => rmSync(closed, { recursive: true, force: true }));

  const run = (args: string[]) => {
    return collectRun(
      spawn(process.execPath, args, {
        cwd: checkout,
        env: { ...env, TOPSTEEL_ENV_FILE: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  };

  const expectOneSentence = (stderr: string) => {
    expect(stderr).toContain(`cannot enter ${closed}`);
    expect(stderr).toContain('/opt or /srv');
    expect(stderr).not.toContain('EACCES');
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('npm run build');
  };

  it('npm run demo stops with exit 1 and one sentence naming the folder in the way', async () => {
    const result = await run([join(checkout, 'apps/api/dist/cli.js'), 'demo', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'EMBEDDED_SERVER_FAILED' } });
    expectOneSentence(result.stderr);
  });

  it('the test harness\'s embedded server says the same, not "run npm run build"', async () => {
    const result = await run([
      join(checkout, 'apps/api/dist/common/embedded/embedded-postgres.main.js'),
      '--dir',
      join(checkout, 'pg-data'),
    ]);
    expect(result.code).toBe(1);
    expectOneSentence(result.stderr);
  });
});
