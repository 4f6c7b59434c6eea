import { Client } from 'pg';
import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { legacyColumns, tableContent } from '../../../../test/harness/independent-checksums';
import { LogicalCluster, startLogicalCluster } from '../../../../test/harness/logical-cluster';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type ErrorDocument = { error: { code: string; message: string } };
type OnlineDocument = {
  mode: string;
  cutover: {
    pauseMs: number;
    phasesMs: Record<string, number>;
    changesApplied: number;
    attempts: number;
    verifyAfterPauseMs: number;
    verifiedKeys: number;
    verifiedWholeTables: string[];
  };
  verification: { ok: boolean };
};

describe('db:migrate -- --online on a server without wal_level=logical', () => {
  const environment = TestEnvironment.create('onlinewal');
  beforeAll(async () => {
    await environment.createMonolith();
  }, 120000);
  afterAll(() => environment.cleanup());

  it('exits 1 with LOGICAL_WAL_REQUIRED, names the setting and the restart, and creates nothing', async () => {
    const [{ wal_level: walLevel }] = await environment.query<{ wal_level: string }>(
      'postgres',
      'SHOW wal_level',
    );
    if (walLevel === 'logical') return; // this server can decode: the check does not apply here
    const result = await runNpmScript('db:migrate', ['--online', '--json'], environment.env());
    expect(result.code).toBe(1);
    const document = parseJson<ErrorDocument>(result);
    expect(document.error.code).toBe('LOGICAL_WAL_REQUIRED');
    expect(document.error.message).toMatch(/wal_level/);
    expect(document.error.message).toMatch(/restart/);
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
    const slots = await environment.query(
      'postgres',
      'SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1',
      [`%${environment.names.monolith}%`],
    );
    expect(slots).toEqual([]);
  });

  it('dry-run --online reports it as a blocker', async () => {
    const result = await runNpmScript('db:migration:dry-run', ['--online', '--json'], environment.env());
    expect(result.code).toBe(1);
    const report = parseJson<{ ok: boolean; checks: { id: string; ok: boolean; detail: string }[] }>(result);
    const check = report.checks.find((entry) => entry.id === 'online-wal-level');
    expect(check?.ok).toBe(false);
    expect(check?.detail).toMatch(/restart/);
  });
});

/** Transactions on AUTH, SHARED and tenant tables, on its own connection, until stopped or refused. */
function writeLoad(environment: TestEnvironment): {
  stop: () => Promise<{ committed: number; unexpected: string | undefined }>;
} {
  let running = true;
  let committed = 0;
  let unexpected: string | undefined;
  const done = (async () => {
    const client: Client = await environment.client(environment.names.monolith);
    for (let index = 0; running; index++) {
      try {
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO clients (nom, email, numero_client, notes, created_at, updated_at)
           VALUES ($1, $2, $3, (SELECT string_agg(md5(g::text || $4::text), '') FROM generate_series(1, 300) g),
                   '2024-01-01 10:00:00.654321', now())`,
          [`Load ${index}`, `load${index}@example.test`, `LOAD-${index}`, String(index)],
        );
        await client.query(
          // Bounded: on a slow machine the load runs long enough to outgrow nom's varchar(255).
          `UPDATE users SET nom = left(nom, 200) || '+', updated_at = clock_timestamp() WHERE id = (SELECT id FROM users ORDER BY id OFFSET $1 LIMIT 1)`,
          [index % 5],
        );
        await client.query(
          `INSERT INTO materiaux (nom, code, densite, created_at, updated_at) VALUES ($1, $2, 7.85, now(), now())`,
          [`Acier ${index}`, `LOAD-${index}`],
        );
        if (index % 3 === 2)
          await client.query('DELETE FROM clients WHERE numero_client = $1', [`LOAD-${index - 1}`]);
        // An update that leaves the TOASTed notes (about 10 kB of hex, stored out of line) unchanged.
        await client.query(`UPDATE clients SET ville = 'Lyon' WHERE numero_client = $1`, [`LOAD-${index}`]);
        await client.query('COMMIT');
        committed++;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // The cutover ends this session and makes the monolith read-only: the load is over. Anything else is a test bug.
        const message = error instanceof Error ? error.message : String(error);
        if (!/read-only|terminat|Connection/i.test(message)) unexpected = message;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await environment.release(client);
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return { committed, unexpected };
    },
  };
}

describe('db:migrate -- --online on a cluster with wal_level=logical', () => {
  let cluster: LogicalCluster;
  let environment: TestEnvironment;
  const databaseOf = () => ({
    auth: environment.names.auth,
    shared: environment.names.shared,
    tenant: environment.names.defaultTenant,
  });

  beforeAll(async () => {
    cluster = await startLogicalCluster();
    environment = TestEnvironment.create('online', cluster);
    await environment.createMonolith();
  }, 300000);
  afterAll(async () => {
    await environment?.cleanup();
    await cluster?.stop();
  }, 60000);

  it('splits while writes go on, cuts over, and leaves monolith and targets equal table by table', async () => {
    const load = writeLoad(environment);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await runCli(['migrate', '--online', '--json', '--jobs', '2'], environment.env());
    const { committed, unexpected } = await load.stop();
    expect(unexpected).toBeUndefined();
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    const document = parseJson<OnlineDocument>(result);
    expect(document.mode).toBe('online');
    expect(document.verification.ok).toBe(true);
    expect(typeof document.cutover.pauseMs).toBe('number');
    // The pause's parts are reported, in order, and together they are the pause (less its start).
    const phases = document.cutover.phasesMs;
    expect(Object.keys(phases)).toEqual(['lock', 'drain', 'sequences', 'freeze', 'verify', 'readOnly']);
    const summed = Object.values(phases).reduce((sum, ms) => sum + ms, 0);
    expect(Object.values(phases).every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
    expect(summed).toBeLessThanOrEqual(document.cutover.pauseMs);
    expect(summed).toBeGreaterThan(0);
    // The full verification after the pause is timed apart from the pause it does not lengthen.
    expect(typeof document.cutover.verifyAfterPauseMs).toBe('number');
    expect(document.cutover.verifyAfterPauseMs).toBeGreaterThan(0);
    // The load's changed rows are verified by key in the pause, not their whole tables.
    expect(document.cutover.verifiedKeys).toBeGreaterThan(0);
    expect(document.cutover.verifiedWholeTables).not.toContain('users');
    expect(document.cutover.changesApplied).toBeGreaterThan(0);
    expect(committed).toBeGreaterThan(0);

    for (const table of DEFAULT_PLAN.tables) {
      const columns = await legacyColumns(environment, environment.names.monolith, table.source);
      const source = await tableContent(environment, environment.names.monolith, table.source, columns);
      const target = await tableContent(environment, databaseOf()[table.database], table.target, columns);
      expect([table.source, target]).toEqual([table.source, source]);
    }
    const [microseconds] = await environment.query<{ ts: string }>(
      environment.names.defaultTenant,
      "SELECT created_at::text AS ts FROM clients WHERE numero_client LIKE 'LOAD-%' LIMIT 1",
    );
    expect(microseconds.ts).toBe('2024-01-01 10:00:00.654321');
  }, 600000);

  it('leaves no slot, publication or DDL guard behind, and the monolith read-only for applications', async () => {
    // The split's slot is gone; what remains is the reverse sync's, one per new database.
    const slots = await environment.query<{ slot_name: string }>(
      'postgres',
      'SELECT slot_name FROM pg_replication_slots ORDER BY 1',
    );
    expect(slots.map((row) => row.slot_name.replace(`_${environment.names.monolith}`, ''))).toEqual([
      'topsteel_rev_auth',
      'topsteel_rev_shared',
      'topsteel_rev_tenant',
    ]);
    const publications = await environment.query(
      environment.names.monolith,
      'SELECT pubname FROM pg_publication',
    );
    expect(publications).toEqual([]);
    const triggers = await environment.query(
      environment.names.monolith,
      'SELECT evtname FROM pg_event_trigger',
    );
    expect(triggers).toEqual([]);
    await expect(
      environment.query(environment.names.monolith, "UPDATE users SET nom = 'x' WHERE false"),
    ).rejects.toThrow(/read-only/);
  });
});
