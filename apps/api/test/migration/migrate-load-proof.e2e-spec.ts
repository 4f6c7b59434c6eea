import { DETERMINISTIC_SESSION_SETTINGS } from '../../src/modules/database/postgres-connection.factory';
import { tableChecksum } from '../../src/scripts/migration/catalogue/catalogue';
import { parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { changedTables } from './target-changes-probe';
import { ErrorDocument, expectFaithfulCopy } from './split-environment';

type LoadedRow = { table: string; xids: string[]; checksum: string | null };

/** The tables the journal records as loaded into the default société's database, with their load transactions. */
async function loadedTables(environment: TestEnvironment): Promise<LoadedRow[]> {
  return environment.query<LoadedRow>(
    environment.names.auth,
    `SELECT target_table AS table, loaded_xids AS xids, loaded_checksum AS checksum FROM migration_journal.split_tables
     WHERE target_database = $1 AND status <> 'copying' ORDER BY target_table`,
    [environment.names.defaultTenant],
  );
}

/** A scale-3 monolith whose split was killed with -9 once tenant.commandes was copied. */
async function killedAfterCommandes(label: string): Promise<TestEnvironment> {
  const environment = TestEnvironment.create(label);
  await environment.createMonolith({ scale: 3 });
  const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
  await run.waitFor(/✔ tenant\.commandes/);
  run.child.kill('SIGKILL');
  expect((await run.done).signal).toBe('SIGKILL');
  const commandes = (await loadedTables(environment)).find((row) => row.table === 'commandes');
  // The load recorded its transaction, not a checksum.
  expect(commandes).toMatchObject({ checksum: null, xids: [expect.stringMatching(/^\d+$/)] });
  return environment;
}

/** The rerun refuses with TARGET_CHANGED naming tenant.commandes (and, proven by xids, its one row written since), and leaves the table as it was. */
async function expectRefused(
  environment: TestEnvironment,
  proof: 'xids' | 'checksum' = 'xids',
): Promise<void> {
  const tenant = environment.names.defaultTenant;
  const rows = `SELECT count(*)::int AS count FROM commandes`;
  const before = await environment.query<{ count: number }>(tenant, rows);
  expect(await changedTables(environment)).toEqual([`${tenant}.commandes`]);
  const refused = await runCli(['migrate', '--json'], environment.env());
  expect(refused.code).toBe(1);
  const failure = parseJson<ErrorDocument>(refused).error;
  expect(failure.code).toBe('TARGET_CHANGED');
  expect(failure.message).toContain(`${tenant}.commandes`);
  // The xids name what changed when the count does not; an older journal's checksum cannot.
  if (proof === 'xids')
    expect(failure.message).toMatch(/commandes: (\d+) rows now \(1 written since\), \1 rows when loaded/);
  expect(await environment.query<{ count: number }>(tenant, rows)).toEqual(before);
}

describe('db:migrate: the load proof by transaction ids', () => {
  it('resumes an untouched interrupted split (even after VACUUM FREEZE) without recopying the loaded tables', async () => {
    const environment = await killedAfterCommandes('proofresume');
    try {
      const loaded = await loadedTables(environment);
      // Freezing keeps the raw xmin: the proof still recognises the tool's rows.
      await environment.query(environment.names.defaultTenant, 'VACUUM (FREEZE) commandes');
      expect(await changedTables(environment)).toEqual([]);

      const rerun = await runCli(['migrate', '--json'], environment.env());
      expect(rerun.code).toBe(0);
      const report = parseJson<{
        split: {
          resumed: boolean;
          verification: { ok: boolean };
          tables: { target: string; database: string; copied: boolean }[];
        };
      }>(rerun);
      expect(report.split).toMatchObject({ resumed: true, verification: { ok: true } });
      const recopied = report.split.tables
        .filter((table) => table.database === 'tenant' && loaded.some((row) => row.table === table.target))
        .filter((table) => table.copied);
      expect(recopied).toEqual([]);
      // Their journal entries still name the first run's load transactions.
      const after = await loadedTables(environment);
      for (const row of loaded)
        expect(after.find((candidate) => candidate.table === row.table)?.xids).toEqual(row.xids);
      await expectFaithfulCopy(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('refuses a rerun after one column of one row of a loaded table was updated (same row count)', async () => {
    const environment = await killedAfterCommandes('proofupdate');
    try {
      await environment.query(
        environment.names.defaultTenant,
        "UPDATE commandes SET statut = CASE WHEN statut = 'annulee' THEN 'livree' ELSE 'annulee' END WHERE ctid = (SELECT ctid FROM commandes ORDER BY numero LIMIT 1)",
      );
      await expectRefused(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('refuses a rerun after one row of a loaded table was deleted and another inserted (same row count)', async () => {
    const environment = await killedAfterCommandes('proofswap');
    try {
      await environment.query(
        environment.names.defaultTenant,
        `DELETE FROM commandes WHERE ctid = (SELECT ctid FROM commandes ORDER BY numero DESC LIMIT 1);
         INSERT INTO commandes (numero, client_id, societe_id)
           SELECT 'CMD-SWAPPED-IN', client_id, societe_id FROM commandes LIMIT 1`,
      );
      await expectRefused(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('records one transaction per range of a range load, and notices one updated row among them', async () => {
    const environment = TestEnvironment.create('proofranges');
    try {
      await environment.createMonolith({ scale: 3 });
      const env = environment.env({ SPLIT_TABLES_LARGER_THAN_KB: '8' });
      expect((await runCli(['migrate', '--jobs', '2'], env)).code).toBe(0);
      const commandes = (await loadedTables(environment)).find((row) => row.table === 'commandes');
      const xids = commandes?.xids ?? [];
      expect(xids.length).toBeGreaterThan(1);
      expect(new Set(xids).size).toBe(xids.length);
      expect(await changedTables(environment)).toEqual([]);

      // A row of the last range: the proof must hold every range's transaction, and only those.
      await environment.query(
        environment.names.defaultTenant,
        "UPDATE commandes SET statut = CASE WHEN statut = 'annulee' THEN 'livree' ELSE 'annulee' END WHERE ctid = (SELECT max(ctid) FROM commandes)",
      );
      expect(await changedTables(environment)).toEqual([`${environment.names.defaultTenant}.commandes`]);
    } finally {
      await environment.cleanup();
    }
  });

  it("still honours an older journal's loaded_checksum", async () => {
    const environment = await killedAfterCommandes('proofolder');
    try {
      const tenant = environment.names.defaultTenant;
      // The journal as the tool wrote it before the xids: the load's checksum over the written columns.
      const [state] = await environment.query<{ columns: string[] }>(
        environment.names.auth,
        `SELECT checksum_columns AS columns FROM migration_journal.split_tables WHERE target_database = $1 AND target_table = 'commandes'`,
        [tenant],
      );
      const client = await environment.client(tenant);
      try {
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        const { checksum } = await tableChecksum(
          client,
          { schema: 'public', name: 'commandes' },
          state.columns,
        );
        await environment.query(
          environment.names.auth,
          `UPDATE migration_journal.split_tables SET loaded_xids = NULL, loaded_checksum = $2
           WHERE target_database = $1 AND target_table = 'commandes'`,
          [tenant, checksum],
        );
      } finally {
        await environment.release(client);
      }
      expect(await changedTables(environment)).toEqual([]);
      await environment.query(
        tenant,
        "UPDATE commandes SET statut = CASE WHEN statut = 'annulee' THEN 'livree' ELSE 'annulee' END WHERE ctid = (SELECT min(ctid) FROM commandes)",
      );
      await expectRefused(environment, 'checksum');
    } finally {
      await environment.cleanup();
    }
  });
});
