import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { expectFaithfulCopy } from './split-environment';

/** Every table above 8 kB (more than one heap page) is copied in block ranges. */
const IN_RANGES = { SPLIT_TABLES_LARGER_THAN_KB: '8' };

type MigrateDocument = { split: { resumed: boolean; verification: { ok: boolean } } };

/** The tables the run's log says were copied in ranges, as `kind.table`. */
function rangedTables(environment: TestEnvironment): string[] {
  return readFileSync(`${environment.logDir}/migration.log`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { step?: string; details?: { table?: string } })
    .filter((line) => line.step === 'copy table in ranges')
    .map((line) => String(line.details?.table));
}

async function rangeLoads(environment: TestEnvironment): Promise<{ table: string; names: string[] }[]> {
  const rows = await environment.query<{ table: string; names: string[] }>(
    environment.names.auth,
    `SELECT target_table AS table, ARRAY(SELECT btrim(s->>'name', '"') FROM jsonb_array_elements(structures) s) AS names
     FROM migration_journal.range_loads`,
  );
  return rows.map((row) => ({ table: row.table, names: [...row.names].sort() }));
}

async function indexNames(environment: TestEnvironment, table: string): Promise<string[]> {
  const rows = await environment.query<{ name: string }>(
    environment.names.defaultTenant,
    `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1)`,
    [`public.${table}`],
  );
  return rows.map((row) => row.name).sort();
}

/**
 * Waits until a tenant table's range load has set its indexes aside (the table is bare), then
 * takes a SHARE lock on it: the ranges in flight commit, the others and the index rebuild wait.
 */
async function holdRangeLoad(
  environment: TestEnvironment,
): Promise<{ table: string; names: string[]; holder: Client }> {
  for (let attempt = 0; attempt < 12000; attempt++) {
    const loads = (await rangeLoads(environment).catch(() => [])).filter((load) => load.names.length > 0);
    for (const load of loads) {
      const bare = await environment.query<{ bare: boolean }>(
        environment.names.defaultTenant,
        `SELECT NOT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass($1)) AS bare`,
        [`public.${load.table}`],
      );
      if (!bare[0]?.bare) continue;
      const holder = await environment.client(environment.names.defaultTenant);
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE public."${load.table}" IN SHARE MODE`);
      return { ...load, holder };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('no range load of a tenant table was seen');
}

describe('db:migrate with tables copied in block ranges', () => {
  it('copies a table split into ranges exactly, indexes and keys rebuilt', async () => {
    const environment = TestEnvironment.create('ranges');
    try {
      await environment.createMonolith({ scale: 10 });
      const migrate = await runCli(['migrate', '--jobs', '2', '--json'], environment.env(IN_RANGES));
      expect(migrate.code).toBe(0);
      expect(parseJson<MigrateDocument>(migrate).split.verification.ok).toBe(true);
      expect(rangedTables(environment)).toEqual(
        expect.arrayContaining(['tenant.commandes', 'tenant.clients']),
      );
      await expectFaithfulCopy(environment);
      expect(await rangeLoads(environment)).toEqual([]);
      expect(await indexNames(environment, 'commandes')).toEqual(
        expect.arrayContaining(['PK_commandes', 'IDX_commandes_societe_id']),
      );
    } finally {
      await environment.cleanup();
    }
  });

  it('after kill -9 in the middle of a range load, the rerun reloads that table once and exactly', async () => {
    const environment = TestEnvironment.create('rangekill');
    try {
      await environment.createMonolith({ scale: 10 });
      const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '2'], environment.env(IN_RANGES)));
      const held = await holdRangeLoad(environment);
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      await environment.release(held.holder);
      // The killed run left the table part-loaded (or loaded, not yet indexed), recorded as such.
      expect((await rangeLoads(environment)).map((load) => load.table)).toContain(held.table);

      const rerun = await runCli(['migrate', '--jobs', '2', '--json'], environment.env(IN_RANGES));
      expect(rerun.code).toBe(0);
      expect(parseJson<MigrateDocument>(rerun).split).toMatchObject({
        resumed: true,
        verification: { ok: true },
      });
      await expectFaithfulCopy(environment);
      expect(await rangeLoads(environment)).toEqual([]);
      expect(await indexNames(environment, held.table)).toEqual(held.names);
    } finally {
      await environment.cleanup();
    }
  });
});
