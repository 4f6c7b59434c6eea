import { parseJson, runCli } from '../../../../test/harness/cli';
import { LogicalCluster, startLogicalCluster } from '../../../../test/harness/logical-cluster';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import {
  monolithContents,
  newDatabaseContents,
  newDatabases,
  reverseConverged,
  writeOnNewDatabases,
} from './reverse-sync-fixture';
import { loseOnTheWay } from './reverse-sync-loss';

type OnlineDocument = { reverseSync: { databases: string[]; slots: string[] } | null };

describe('reverse sync after db:migrate -- --online, and a rollback that loses nothing', () => {
  let cluster: LogicalCluster;
  let environment: TestEnvironment;
  beforeAll(async () => {
    cluster = await startLogicalCluster();
    environment = TestEnvironment.create('reverse', cluster);
    await environment.createMonolith();
  }, 300000);
  afterAll(async () => {
    // A failed run may leave subscriptions, which keep the monolith from being dropped.
    const subscriptions = await environment
      ?.query<{ subname: string }>(environment.names.monolith, 'SELECT subname FROM pg_subscription')
      .catch(() => []);
    if (subscriptions && subscriptions.length > 0) {
      const client = await environment.client(environment.names.monolith);
      await client.query('SET default_transaction_read_only = off');
      for (const { subname } of subscriptions)
        for (const statement of ['DISABLE', 'SET (slot_name = NONE)', 'DROP'])
          await client.query(
            statement === 'DROP'
              ? `DROP SUBSCRIPTION "${subname}"`
              : `ALTER SUBSCRIPTION "${subname}" ${statement}`,
          );
      await environment.release(client);
    }
    await environment?.cleanup();
    await cluster?.stop();
  }, 60000);

  it('subscribes the monolith to AUTH, SHARED and the default tenant at the end of the online split', async () => {
    const result = await runCli(['migrate', '--online', '--json', '--jobs', '2'], environment.env());
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    const document = parseJson<OnlineDocument>(result);
    expect(document.reverseSync?.databases.sort()).toEqual(Object.values(newDatabases(environment)).sort());
    expect(result.stdout + result.stderr).not.toContain(cluster.password);
    const subscriptions = await environment.query<{ subname: string; subenabled: boolean }>(
      environment.names.monolith,
      'SELECT subname, subenabled FROM pg_subscription ORDER BY 1',
    );
    expect(subscriptions.map((row) => row.subenabled)).toEqual([true, true, true]);
  }, 600000);

  it('brings every write made on the new databases back into the read-only monolith', async () => {
    for (let round = 0; round < 3; round++) await writeOnNewDatabases(environment, round);
    expect(await reverseConverged(environment)).toEqual([]);
    const [kept] = await environment.query<{ ts: string }>(
      environment.names.monolith,
      "SELECT created_at::text AS ts FROM clients WHERE numero_client = 'REV-0'",
    );
    expect(kept.ts).toBe('2024-02-03 04:05:06.123456');
    await expect(
      environment.query(environment.names.monolith, "UPDATE users SET nom = 'x' WHERE false"),
    ).rejects.toThrow(/read-only/);
    const status = await runCli(['status', '--json'], environment.env());
    expect(status.code).toBe(0);
    const links = parseJson<{
      online: { reverseSync: { database: string; state: string; lagBytes: number | null }[] | null };
    }>(status).online.reverseSync;
    expect(links?.map((link) => [link.database, link.state]).sort()).toEqual(
      Object.values(newDatabases(environment))
        .sort()
        .map((database) => [database, 'running']),
    );
    expect(links?.every((link) => typeof link.lagBytes === 'number')).toBe(true);
  }, 120000);

  // A row the sync never touched: its monolith copy keeps the xmin it had before the cutover.
  // user_sessions: nothing references it, so the lost delete cascades nowhere else.
  it.each([
    {
      what: 'an update',
      kind: 'tenant' as const,
      table: 'clients',
      pick: "SELECT id::text AS id FROM clients WHERE numero_client NOT LIKE 'REV-%' ORDER BY id LIMIT 1",
      statement: "UPDATE clients SET ville = 'Lost on the way' WHERE id = $1",
      fix: "UPDATE clients SET ville = 'Lost on the way' WHERE id = $1",
      expected: 'content differs',
    },
    {
      what: 'a delete',
      kind: 'auth' as const,
      table: 'user_sessions',
      pick: 'SELECT id::text AS id FROM user_sessions ORDER BY id DESC LIMIT 1',
      statement: 'DELETE FROM user_sessions WHERE id = $1',
      fix: 'DELETE FROM user_sessions WHERE id = $1',
      expected: 'rows in the monolith',
    },
  ])(
    'refuses when $what made on a new database never reached the monolith, and changes nothing',
    async ({ kind, table, pick, statement, fix, expected }) => {
      const database = newDatabases(environment)[kind];
      const [{ id }] = await environment.query<{ id: string }>(database, pick);
      await loseOnTheWay(environment, database, statement, [id]);
      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(1);
      const error = parseJson<{ error: { code: string; message: string } }>(result).error;
      expect(error.code).toBe('REVERSE_SYNC_BEHIND');
      expect(error.message).toContain(`${table} (`);
      expect(error.message).toContain(expected);
      // The monolith stays read-only for applications; the new databases take writes again.
      await expect(
        environment.query(environment.names.monolith, "UPDATE users SET nom = 'x' WHERE false"),
      ).rejects.toThrow(/read-only/);
      await environment.query(database, `${statement.replace(/ WHERE .*/, '')} WHERE false`);
      for (const name of Object.values(newDatabases(environment)))
        expect(await environment.databaseExists(name)).toBe(true);
      // What an operator would do: apply the lost change to the monolith by hand.
      const client = await environment.client(environment.names.monolith);
      try {
        await client.query('SET default_transaction_read_only = off');
        await client.query(fix, [id]);
      } finally {
        await environment.release(client);
      }
    },
    300000,
  );

  it('db:rollback -- --yes, without --accept-data-loss, leaves every committed row in the monolith', async () => {
    // Writes up to the last moment: the rollback drains them (a disabled subscription is refused:
    // online-split-reverse-faults covers it).
    await writeOnNewDatabases(environment, 10);
    await writeOnNewDatabases(environment, 11);
    const expected = await newDatabaseContents(environment);
    const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(validate.code).toBe(0);
    const result = await runCli(['rollback', '--yes', '--json'], environment.env());
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    const document = parseJson<{
      rollback: {
        pauseMs: number;
        restored: boolean;
        dropped: string[];
        reverseSync: { tablesVerified: number; tablesVerifiedIncrementally: number };
      };
    }>(result);
    expect(typeof document.rollback.pauseMs).toBe('number');
    // Keyed tables by their rows changed since the sync started; materiaux (rewritten by the levelling) in full.
    const { tablesVerified, tablesVerifiedIncrementally } = document.rollback.reverseSync;
    expect(tablesVerifiedIncrementally).toBeGreaterThan(0);
    expect(tablesVerifiedIncrementally).toBeLessThan(tablesVerified);
    expect(document.rollback.restored).toBe(false);
    expect(document.rollback.dropped.sort()).toEqual(Object.values(newDatabases(environment)).sort());
    expect(await monolithContents(environment)).toEqual(expected);
    const [row] = await environment.query<{ n: string }>(
      environment.names.monolith,
      "SELECT count(*)::text AS n FROM clients WHERE numero_client IN ('REV-10', 'REV-11')",
    );
    expect(row.n).toBe('2');
    // Writable again, nothing of the sync left behind.
    await environment.query(environment.names.monolith, 'UPDATE users SET nom = nom WHERE false');
    expect(
      await environment.query(environment.names.monolith, 'SELECT subname FROM pg_subscription'),
    ).toEqual([]);
    expect(await environment.query('postgres', 'SELECT slot_name FROM pg_replication_slots')).toEqual([]);
    expect(
      await environment.query(
        environment.names.monolith,
        "SELECT to_regclass('public.shared_materials') AS t",
      ),
    ).toEqual([{ t: null }]);
  }, 300000);
});

describe('db:rollback:validate after an online split names what cannot go back', () => {
  let cluster: LogicalCluster;
  let environment: TestEnvironment;

  beforeAll(async () => {
    cluster = await startLogicalCluster();
    environment = TestEnvironment.create('revsoc', cluster);
    await environment.createMonolith();
  }, 300000);
  afterAll(async () => {
    await environment?.cleanup();
    await cluster?.stop();
  }, 60000);

  it('names the rows of a société created after the split, by table and count, and needs --accept-data-loss', async () => {
    const split = await runCli(['migrate', '--online', '--json', '--jobs', '2'], environment.env());
    expect(split.code).toBe(0);
    expect((await runCli(['societe:create', 'ACME', 'Acme'], environment.env())).code).toBe(0);
    const acme = `${environment.names.tenantPrefix}_acme`;
    await environment.query(
      acme,
      `INSERT INTO clients (societe_id, nom, email, numero_client, created_at, updated_at)
       SELECT id, 'Acme client', 'client@acme.test', 'ACME-1', now(), now() FROM (SELECT gen_random_uuid() AS id) s`,
    );
    // A write in the default tenant flows back: it is not named.
    await environment.query(environment.names.defaultTenant, "UPDATE clients SET ville = 'Brest' WHERE true");

    const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(validate.code).toBe(1);
    const report = parseJson<{
      validation?: { postSplitData: { database: string; table: string; rowsNow: number }[] };
      postSplitData?: { database: string; table: string; rowsNow: number }[];
    }>(validate);
    const named = (report.validation?.postSplitData ?? report.postSplitData ?? []).map(
      (change) => `${change.database}.${change.table}:${change.rowsNow}`,
    );
    expect(named).toContain(`${acme}.public.clients:1`);
    expect(named.some((entry) => entry.startsWith(`${environment.names.defaultTenant}.`))).toBe(false);

    const refused = await runCli(['rollback', '--yes', '--json'], environment.env());
    expect(refused.code).toBe(1);
    const accepted = await runCli(['rollback', '--yes', '--accept-data-loss', '--json'], environment.env());
    if (accepted.code !== 0) throw new Error(`exit ${accepted.code}\n${accepted.stderr.slice(-3000)}`);
    const [brest] = await environment.query<{ n: string }>(
      environment.names.monolith,
      "SELECT count(*)::text AS n FROM clients WHERE ville IS DISTINCT FROM 'Brest'",
    );
    expect(brest.n).toBe('0');
  }, 600000);
});
