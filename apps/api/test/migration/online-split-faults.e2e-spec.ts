import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { collectRun, parseJson, runNpmScript, spawnCli } from '../../../../test/harness/cli';
import { legacyColumns, tableContent } from '../../../../test/harness/independent-checksums';
import { LogicalCluster, startLogicalCluster } from '../../../../test/harness/logical-cluster';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type StatusDocument = {
  online: { phase: string; cutoverAttempts: number; retainedWalBytes: number | null } | null;
};

/** Polls db:status --json until the online split reports the phase. */
async function waitForPhase(
  environment: TestEnvironment,
  phase: string,
  timeoutMs = 240000,
): Promise<StatusDocument> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await runNpmScript('db:status', ['--json'], environment.env());
    if (result.code === 0) {
      const status = parseJson<StatusDocument>(result);
      if (status.online?.phase === phase) return status;
    }
    if (Date.now() > deadline) throw new Error(`phase ${phase} not reached`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 120000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function expectEqualTables(environment: TestEnvironment): Promise<void> {
  const databaseOf = {
    auth: environment.names.auth,
    shared: environment.names.shared,
    tenant: environment.names.defaultTenant,
  };
  for (const table of DEFAULT_PLAN.tables) {
    const columns = await legacyColumns(environment, environment.names.monolith, table.source);
    const source = await tableContent(environment, environment.names.monolith, table.source, columns);
    const target = await tableContent(environment, databaseOf[table.database], table.target, columns);
    expect([table.source, target]).toEqual([table.source, source]);
  }
}

/**
 * This environment's online-split slots (named after its monolith), so one test's leftovers never
 * fail another; the reverse sync's (topsteel_rev_*) stay after a completed split.
 */
async function slots(environment: TestEnvironment): Promise<string[]> {
  return (
    await environment.query<{ slot_name: string }>(
      'postgres',
      "SELECT slot_name FROM pg_replication_slots WHERE slot_name NOT LIKE 'topsteel\\_rev\\_%' AND strpos(slot_name, $1) > 0",
      [environment.names.monolith],
    )
  ).map((row) => row.slot_name);
}

// These tests are about resuming, not about the pause: a loaded CI machine must not abort their
// cutover. The pause test sets its own --max-pause-ms (the last value given wins).
const MANUAL = [
  'migrate',
  '--online',
  '--cutover',
  'manual',
  '--json',
  '--jobs',
  '2',
  '--max-pause-ms',
  '120000',
];

/**
 * The same command again after a kill: it resumes in the slot, follows, db:cutover completes it,
 * and every table is equal. Returns the status seen while it followed.
 */
async function resumeAndCutOver(environment: TestEnvironment): Promise<StatusDocument> {
  const done = collectRun(spawnCli(MANUAL, environment.env()));
  const status = await waitForPhase(environment, 'following');
  const cutover = await runNpmScript('db:cutover', ['--json'], environment.env());
  expect(cutover.code).toBe(0);
  const result = await done;
  if (result.code !== 0)
    throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
  expect(parseJson<{ resumed: boolean }>(result).resumed).toBe(true);
  await expectEqualTables(environment);
  return status;
}

async function countOf(environment: TestEnvironment, database: string, sql: string): Promise<number> {
  return Number((await environment.query<{ n: string }>(database, sql))[0].n);
}

describe('online split faults (logical cluster)', () => {
  let cluster: LogicalCluster;
  const environments: TestEnvironment[] = [];
  const environment = async (label: string) => {
    const created = TestEnvironment.create(label, cluster);
    environments.push(created);
    await created.createMonolith();
    return created;
  };

  beforeAll(async () => {
    cluster = await startLogicalCluster();
  }, 60000);
  afterAll(async () => {
    for (const created of environments) await created.cleanup();
    await cluster?.stop();
  }, 120000);

  it('kill -9 while following, then the same command again: keyless table, TRUNCATE, TOAST, a large transaction; db:cutover completes it', async () => {
    const env = await environment('onlinekill');
    const monolith = env.names.monolith;
    const first = spawnCli(MANUAL, env.env());
    const firstDone = collectRun(first);
    await waitForPhase(env, 'following');
    await env.query(
      monolith,
      `INSERT INTO user_settings_backup (id, key, value) VALUES
         ('00000000-0000-0000-0000-0000000000aa', 'dup', 'v'), ('00000000-0000-0000-0000-0000000000aa', 'dup', 'v'),
         ('00000000-0000-0000-0000-0000000000bb', 'other', repeat('long ', 5000))`,
    );
    await env.query(
      monolith,
      "DELETE FROM user_settings_backup WHERE ctid = (SELECT ctid FROM user_settings_backup WHERE key = 'dup' LIMIT 1)",
    );
    await env.query(monolith, "UPDATE user_settings_backup SET type = 'changed' WHERE key = 'other'");
    await env.query(monolith, 'TRUNCATE notification_reads');
    await env.query(
      monolith,
      `INSERT INTO clients (nom, numero_client, notes) SELECT 'Bulk ' || i, 'BULK-' || i, repeat('n', 3000) FROM generate_series(1, 5000) i`,
    );
    await waitFor(async () => {
      const [row] = await env.query<{ count: string }>(
        env.names.defaultTenant,
        "SELECT count(*) AS count FROM clients WHERE numero_client LIKE 'BULK-%'",
      );
      return Number(row.count) === 5000;
    });
    first.kill('SIGKILL');
    expect((await firstDone).signal).toBe('SIGKILL');
    // Written while no one follows: the slot keeps them for the rerun.
    await env.query(monolith, "UPDATE clients SET ville = 'Paris' WHERE numero_client LIKE 'BULK-%'");
    await env.query(monolith, "DELETE FROM clients WHERE numero_client IN ('BULK-1', 'BULK-2')");

    const status = await resumeAndCutOver(env);
    expect(status.online?.retainedWalBytes).not.toBeNull();
    expect(await slots(env)).toEqual([]);
    const [identity] = await env.query<{ identity: string }>(
      monolith,
      "SELECT relreplident AS identity FROM pg_class WHERE relname = 'user_settings_backup'",
    );
    expect(identity.identity).toBe('d');
  }, 900000);

  it('kill -9 between two target commits of one source transaction, then the same command again: nothing applied twice, nothing skipped', async () => {
    const env = await environment('onlinecommits');
    const monolith = env.names.monolith;
    // The test-only hook kills the CLI right after the first target of a multi-target transaction commits.
    const first = spawnCli(MANUAL, { ...env.env(), TOPSTEEL_FAULT_CRASH_BETWEEN_COMMITS: '1' });
    const firstDone = collectRun(first);
    await waitForPhase(env, 'following');
    // One source transaction over AUTH (a keyless table: applied twice, the row would be there twice),
    // the tenant and SHARED, in that order: AUTH commits first, then the process dies.
    const client = await env.client(monolith);
    try {
      await client.query('BEGIN');
      await client.query(
        "INSERT INTO user_settings_backup (id, key, value) VALUES ('00000000-0000-0000-0000-0000000000cc', 'between', 'v')",
      );
      await client.query("INSERT INTO clients (nom, numero_client) VALUES ('Between', 'BETWEEN-1')");
      await client.query(
        "UPDATE materiaux SET nom = nom || ' (between)' WHERE id = (SELECT id FROM materiaux ORDER BY id LIMIT 1)",
      );
      await client.query('COMMIT');
    } finally {
      await env.release(client);
    }
    const killed = await Promise.race([
      firstDone,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the CLI was not killed between the commits')), 240000),
      ),
    ]);
    expect(killed.signal).toBe('SIGKILL');
    const count = (database: string, sql: string) => countOf(env, database, sql);
    expect(
      await count(env.names.auth, "SELECT count(*) AS n FROM user_settings_backup WHERE key = 'between'"),
    ).toBe(1);
    expect(
      await count(
        env.names.defaultTenant,
        "SELECT count(*) AS n FROM clients WHERE numero_client = 'BETWEEN-1'",
      ),
    ).toBe(0);
    // Written while no one follows: the slot keeps them for the rerun.
    await env.query(monolith, "UPDATE clients SET ville = 'Lyon' WHERE numero_client = 'BETWEEN-1'");

    await resumeAndCutOver(env);
    expect(
      await count(env.names.auth, "SELECT count(*) AS n FROM user_settings_backup WHERE key = 'between'"),
    ).toBe(1);
    expect(
      await count(
        env.names.defaultTenant,
        "SELECT count(*) AS n FROM clients WHERE numero_client = 'BETWEEN-1' AND ville = 'Lyon'",
      ),
    ).toBe(1);
    expect(
      await count(
        env.names.shared,
        "SELECT count(*) AS n FROM shared_materials WHERE nom LIKE '% (between)'",
      ),
    ).toBe(1);
    expect(await slots(env)).toEqual([]);
  }, 900000);

  it('kill -9 while a batch commits and the next one is sealed, then the same command again: nothing applied twice, nothing skipped', async () => {
    const env = await environment('onlineinflight');
    const monolith = env.names.monolith;
    // The test-only hook kills the CLI when a batch is sealed while the previous one still commits.
    const first = spawnCli(MANUAL, { ...env.env(), TOPSTEEL_FAULT_CRASH_WITH_BATCH_IN_FLIGHT: '1' });
    const firstDone = collectRun(first);
    await waitForPhase(env, 'following');
    const [{ id: lockedId }] = await env.query<{ id: string }>(
      monolith,
      'SELECT id::text AS id FROM clients ORDER BY id LIMIT 1',
    );
    // A row lock on the tenant holds the first batch's commit there (AUTH commits, the tenant waits).
    const blocker = await env.client(env.names.defaultTenant);
    const write = async (statements: string[]) => {
      const client = await env.client(monolith);
      try {
        await client.query('BEGIN');
        for (const statement of statements) await client.query(statement);
        await client.query('COMMIT');
      } finally {
        await env.release(client);
      }
    };
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM clients WHERE id = $1 FOR UPDATE', [lockedId]);
      await write([
        "INSERT INTO user_settings_backup (id, key, value) VALUES ('00000000-0000-0000-0000-0000000000d1', 'inflight', '1')",
        `UPDATE clients SET ville = 'InFlight' WHERE id = '${lockedId}'`,
      ]);
      // Well after the first batch went out (250 ms idle): the next batch is sealed while it waits.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await write([
        "INSERT INTO user_settings_backup (id, key, value) VALUES ('00000000-0000-0000-0000-0000000000d2', 'inflight', '2')",
        "INSERT INTO clients (nom, numero_client) VALUES ('InFlight', 'INFLIGHT-2')",
      ]);
      const killed = await Promise.race([
        firstDone,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the CLI was not killed with a batch in flight')), 240000),
        ),
      ]);
      expect(killed.signal).toBe('SIGKILL');
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      await env.release(blocker);
    }
    const count = (database: string, sql: string) => countOf(env, database, sql);
    await resumeAndCutOver(env);
    // A keyless table: a batch applied twice would show its row twice.
    expect(
      await count(env.names.auth, "SELECT count(*) AS n FROM user_settings_backup WHERE key = 'inflight'"),
    ).toBe(2);
    expect(
      await count(
        env.names.defaultTenant,
        "SELECT count(*) AS n FROM clients WHERE numero_client = 'INFLIGHT-2'",
      ),
    ).toBe(1);
    expect(await slots(env)).toEqual([]);
  }, 900000);

  it('kill -9 while copying, then the same command again: copies again in a new slot and completes', async () => {
    const env = await environment('onlinecopykill');
    const first = new WatchedProcess(spawnCli(['migrate', '--online', '--json', '--jobs', '2'], env.env()));
    // The first table copied in the slot's snapshot: the others are still being copied. (Watched on
    // the progress lines, not by polling the journal: small tables now copy within one poll.)
    await first.waitFor(/✔ (auth|shared|tenant)\./);
    const phase = await env.query<{ phase: string }>(
      env.names.auth,
      'SELECT phase FROM migration_journal.online_split',
    );
    expect(phase.map((row) => row.phase)).toEqual(['copying']);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    await env.query(env.names.monolith, "UPDATE clients SET ville = 'Brest' WHERE true");
    const result = await runNpmScript('db:migrate', ['--online', '--json', '--jobs', '2'], env.env());
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    expect(parseJson<{ resumed: boolean }>(result).resumed).toBe(false);
    await expectEqualTables(env);
    expect(await slots(env)).toEqual([]);
    const status = await runNpmScript('db:status', ['--json'], env.env());
    expect(parseJson<StatusDocument>(status).online?.phase).toBe('done');
  }, 900000);

  it('DDL on the monolith during the follow is refused and stops the follow with exit 1 naming the statement', async () => {
    const env = await environment('onlineddl');
    const child = spawnCli(MANUAL, env.env());
    const done = collectRun(child);
    await waitForPhase(env, 'following');
    await expect(
      env.query(env.names.monolith, 'ALTER TABLE clients ADD COLUMN extra integer'),
    ).rejects.toThrow(/refused while the online split/);
    const result = await done;
    expect(result.code).toBe(1);
    const document = parseJson<{ error: { code: string; message: string } }>(result);
    expect(document.error.code).toBe('DDL_DURING_SPLIT');
    expect(document.error.message).toMatch(/ALTER TABLE clients ADD COLUMN extra integer/);
    expect(await slots(env)).toEqual([]);
    const columns = await legacyColumns(env, env.names.monolith, 'clients');
    expect(columns).not.toContain('extra');
  }, 600000);

  it('a cutover that would pass --max-pause-ms is aborted, db:cutover exits 1, writes resume and the follow goes on', async () => {
    const env = await environment('onlinepause');
    const child = spawnCli([...MANUAL, '--max-pause-ms', '1'], env.env());
    const done = collectRun(child);
    await waitForPhase(env, 'following');
    const cutover = await runNpmScript('db:cutover', ['--json'], env.env());
    expect(cutover.code).toBe(1);
    const status = await waitForPhase(env, 'following');
    expect(status.online?.cutoverAttempts).toBeGreaterThanOrEqual(1);
    await env.query(env.names.monolith, "UPDATE clients SET ville = 'Nantes' WHERE true");
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(143);
    expect(await slots(env)).toEqual([]);
  }, 600000);
});
