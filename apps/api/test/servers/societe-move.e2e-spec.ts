import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MoveReport } from '../../src/scripts/migration/move/move.types';
import { parseJson, runCli, runNpmScript, spawnCli } from '../../../../test/harness/cli';
import { ExtraCluster, startExtraCluster } from '../../../../test/harness/extra-cluster';
import { RunningApp } from '../../../../test/harness/http-app';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

const EU1_PASSWORD = 'eu1-move-password-5d2e';
type Place = 'default' | 'eu1';
type Content = Record<string, { rows: number; md5: string }>;

/**
 * db:societe:move between the default server and an extra cluster: the moved database holds the
 * same rows (checked with md5, not the product's checksum), the registry follows, the old database
 * is dumped to BACKUP_DIR then dropped; the app answers 503 + Retry-After for that société only
 * while it moves; a kill -9 at every step, then a rerun, leaves it in exactly one place.
 */
describe('db:societe:move', () => {
  const environment = TestEnvironment.create('move');
  let eu1: ExtraCluster;
  let baseline: Content;
  const tenant = `${environment.prefix}_topsteel`;
  const env = (extra: Record<string, string | undefined> = {}) =>
    environment.env({
      TENANT_SERVERS: `eu1=127.0.0.1:${eu1.port}`,
      TENANT_SERVER_EU1_PASSWORD: EU1_PASSWORD,
      ...extra,
    });

  const connect = async (place: Place, database: string): Promise<Client> => {
    if (place === 'default') return environment.client(database);
    const client = new Client({
      host: eu1.host,
      port: eu1.port,
      user: eu1.user,
      password: eu1.password,
      database,
    });
    await client.connect();
    return client;
  };
  const existsOn = async (place: Place, name: string): Promise<boolean> => {
    const client = await connect(place, 'postgres');
    try {
      return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    } finally {
      await client.end();
    }
  };
  /** md5-based content of every table, independent of the product's hashtextextended checksum. */
  const contentOn = async (place: Place): Promise<Content> => {
    const client = await connect(place, tenant);
    try {
      const tables = await client.query<{ name: string; columns: string[] }>(
        `SELECT table_name AS name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
         FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name`,
      );
      const content: Content = {};
      for (const table of tables.rows) {
        if (table.name === 'migrations') continue;
        const row = table.columns.map((column) => `t."${column}"`).join(', ');
        const result = await client.query<{ rows: string; md5: string }>(
          `SELECT count(*) AS rows, coalesce(sum(('x' || left(md5(ROW(${row})::text), 16))::bit(64)::bigint), 0)::text AS md5
           FROM public."${table.name}" t`,
        );
        content[table.name] = { rows: Number(result.rows[0].rows), md5: result.rows[0].md5 };
      }
      return content;
    } finally {
      await client.end();
    }
  };
  const registry = async () =>
    (
      await environment.query<{ database_server: string; moving: boolean }>(
        environment.names.auth,
        "SELECT database_server, moving_since IS NOT NULL AS moving FROM societes WHERE code = 'TOPSTEEL'",
      )
    )[0];
  const pendingMoves = async () =>
    (await environment.query(environment.names.auth, 'SELECT step FROM migration_journal.societe_moves'))
      .length;
  /** The société is recorded on `place`, its database is there and nowhere else, with every row. */
  const expectServedFrom = async (place: Place) => {
    expect(await registry()).toEqual({ database_server: place, moving: false });
    expect(await existsOn(place, tenant)).toBe(true);
    expect(await existsOn(place === 'default' ? 'eu1' : 'default', tenant)).toBe(false);
    expect(await pendingMoves()).toBe(0);
    expect(await contentOn(place)).toEqual(baseline);
  };
  const dumps = () => {
    const folder = join(environment.backupDir, 'moves');
    return existsSync(folder)
      ? readdirSync(folder).flatMap((name) =>
          readdirSync(join(folder, name)).map((file) => join(folder, name, file)),
        )
      : [];
  };

  beforeAll(async () => {
    eu1 = await startExtraCluster(EU1_PASSWORD);
    await environment.createMonolith();
    expect((await runNpmScript('db:migrate', [], env())).code).toBe(0);
    expect((await runCli(['societe:create', 'GAMMA', 'Gamma'], env())).code).toBe(0);
    await environment.query(
      environment.names.auth,
      `INSERT INTO societe_users (societe_id, user_id) SELECT s.id, u.id FROM societes s, users u
       WHERE s.code = 'GAMMA' AND u.email = $1 ON CONFLICT DO NOTHING`,
      [ADMIN_ACCOUNT.email],
    );
    baseline = await contentOn('default');
  });

  afterAll(async () => {
    await eu1?.remove();
    await environment.cleanup();
  });

  it('refuses an unknown server, the same server and an unknown société with exit 2, changing nothing', async () => {
    for (const [args, code] of [
      [['TOPSTEEL', '--to', 'mars'], 'MOVE_UNKNOWN_SERVER'],
      [['TOPSTEEL', '--to', 'default'], 'MOVE_SAME_SERVER'],
      [['NOPE', '--to', 'eu1'], 'MOVE_UNKNOWN_SOCIETE'],
    ] as const) {
      const result = await runNpmScript('db:societe:move', [...args, '--json'], env());
      expect(result.code).toBe(2);
      expect(result.stdout).toContain(code);
    }
    const missingTo = await runCli(['societe:move', 'TOPSTEEL'], env());
    expect(missingTo.code).toBe(2);
    expect(await existsOn('eu1', tenant)).toBe(false);
    await expectServedFrom('default');
  });

  it('moves default → eu1 → default: same rows, registry switched, old database dumped then dropped', async () => {
    const there = await runNpmScript('db:societe:move', ['TOPSTEEL', '--to', 'eu1', '--json'], env());
    expect(there.code).toBe(0);
    expect(there.stdout + there.stderr).not.toContain(EU1_PASSWORD);
    // npm prints its banner on stdout before the document.
    const moved = JSON.parse(there.stdout.slice(there.stdout.indexOf('{'))) as MoveReport;
    expect(moved).toMatchObject({ societe: 'TOPSTEEL', from: 'default', to: 'eu1', outcome: 'moved' });
    expect(moved.rows).toBe(moved.tables.reduce((sum, table) => sum + table.rows, 0));
    for (const [table, content] of Object.entries(baseline))
      expect(moved.tables.find((entry) => entry.table === table)?.rows).toBe(content.rows);
    expect(moved.bytes).toBeGreaterThan(0);
    expect(moved.unavailableMs).toBeGreaterThan(0);
    expect(moved.steps.map((step) => step.step)).toEqual([
      'mark',
      'copy',
      'verify',
      'switch',
      'dump',
      'drop',
    ]);
    expect(moved.dump?.path).toBeDefined();
    expect(existsSync(moved.dump!.path)).toBe(true);
    expect(statSync(moved.dump!.path).mode & 0o777).toBe(0o600);
    await expectServedFrom('eu1');
    const journal = await environment.query(
      environment.names.auth,
      'SELECT server FROM migration_journal.databases WHERE name = $1',
      [tenant],
    );
    expect(journal).toEqual([{ server: 'eu1' }]);

    const back = await runCli(['societe:move', 'TOPSTEEL', '--to', 'default'], env());
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('moved from server eu1 to server default');
    await expectServedFrom('default');
    expect(dumps()).toHaveLength(2);
  });

  it('answers 503 with Retry-After for the moving société only; SIGTERM undoes the move (exit 143)', async () => {
    const app = await RunningApp.start(env());
    try {
      const token = await app.login(ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.password);
      expect((await app.request('/tenant/clients', { token, societe: 'TOPSTEEL' })).status).toBe(200);
      const move = new WatchedProcess(
        spawnCli(['societe:move', 'TOPSTEEL', '--to', 'eu1'], env({ TOPSTEEL_MOVE_PAUSE_AT: 'copied' })),
      );
      await move.waitFor(/paused at copied/);
      const moving = await app.request('/tenant/clients', { token, societe: 'TOPSTEEL' });
      expect(moving.status).toBe(503);
      expect(moving.body).toMatchObject({ error: 'SOCIETE_MOVING' });
      expect(Number(moving.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await app.request('/tenant/clients', { token, societe: 'GAMMA' })).status).toBe(200);
      move.child.kill('SIGTERM');
      expect((await move.done).code).toBe(143);
      await expectServedFrom('default');
      expect((await app.request('/tenant/clients', { token, societe: 'TOPSTEEL' })).status).toBe(200);
    } finally {
      await app.stop();
    }
  });

  it.each(['marked', 'copied', 'verified', 'switched', 'dumped', 'dropped'])(
    'a kill -9 at step %s, then a rerun, leaves the société in exactly one place with every row',
    async (step) => {
      const from = (await registry()).database_server as Place;
      const to: Place = from === 'default' ? 'eu1' : 'default';
      const move = new WatchedProcess(
        spawnCli(['societe:move', 'TOPSTEEL', '--to', to], env({ TOPSTEEL_MOVE_PAUSE_AT: step })),
      );
      await move.waitFor(new RegExp(`paused at ${step}`));
      move.child.kill('SIGKILL');
      await move.done;
      // Before the switch the registry still names the old server, whose database is intact.
      const committed = ['dumped', 'dropped'].includes(step);
      expect((await registry()).database_server).toBe(committed ? to : from);
      expect(await existsOn(committed ? to : from, tenant)).toBe(true);
      const rerun = await runCli(['societe:move', 'TOPSTEEL', '--to', to, '--json'], env());
      expect(rerun.code).toBe(0);
      expect(parseJson<MoveReport>(rerun).resumedInterruptedMove).toBe(true);
      await expectServedFrom(to);
    },
  );
});
