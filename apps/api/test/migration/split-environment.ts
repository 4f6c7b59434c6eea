import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RollbackReport, RollbackValidation } from '../../src/scripts/migration/rollback-migration';
import { RollbackState } from '../../src/scripts/migration/rollback/rollback-state';
import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { runCli, spawnCli } from '../../../../test/harness/cli';
import { legacyColumns, tableContent } from '../../../../test/harness/independent-checksums';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

export type RollbackDocument = {
  validation: RollbackValidation;
  rollback?: RollbackReport;
  exitCode: number;
};
export type ErrorDocument = { error: { code: string; message: string } };

/** A generated monolith, already split by db:migrate: where every rollback test starts. */
export async function splitEnvironment(label: string): Promise<TestEnvironment> {
  const environment = TestEnvironment.create(label);
  await environment.createMonolith();
  const migrate = await runCli(['migrate'], environment.env());
  expect(migrate.code).toBe(0);
  return environment;
}

/** A scale-10 monolith whose split was killed with -9 after three tables were copied. */
export async function splitKilledMidCopy(environment: TestEnvironment): Promise<void> {
  await environment.createMonolith({ scale: 10 });
  const migrate = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
  await migrate.waitFor(/✔ (auth|shared|tenant)\./, 3);
  migrate.child.kill('SIGKILL');
  expect((await migrate.done).signal).toBe('SIGKILL');
}

/** The databases the split created: AUTH, SHARED and the default société's. */
export const newDatabases = (environment: TestEnvironment): string[] => [
  environment.names.auth,
  environment.names.shared,
  environment.names.defaultTenant,
];

/** Where an installation's unfinished rollback is recorded (one file per AUTH database). */
export const statePath = (backupDir: string, authDatabase: string): string =>
  join(backupDir, 'rollback', `in-progress-${authDatabase}.json`);

const waitUntil = async (condition: () => Promise<boolean>, what: string): Promise<void> => {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
};

/**
 * Runs db:rollback on a monolith that needs a restore and kills it with -9 inside the swap: after
 * the monolith was closed to connections, before the renames commit. The renames are held there
 * by a transaction of the test's that locks the restored database (COMMENT ON DATABASE conflicts
 * with ALTER DATABASE ... RENAME). Returns the rollback record as the killed run left it.
 */
export async function killInsideSwap(environment: TestEnvironment): Promise<RollbackState> {
  const run = new WatchedProcess(spawnCli(['rollback', '--yes', '--verbose'], environment.env()));
  await run.waitFor(/→ verify the restore/);
  const [restore] = await environment.query<{ name: string }>(
    'postgres',
    'SELECT datname AS name FROM pg_database WHERE datname LIKE $1',
    [`${environment.names.monolith}_restore_%`],
  );
  const blocker = await environment.client('postgres');
  await blocker.query('BEGIN');
  await blocker.query(`COMMENT ON DATABASE "${restore.name}" IS 'held by the test'`);
  await run.waitFor(/→ swap the restored monolith in/);
  await waitUntil(
    async () =>
      (
        await environment.query(
          'postgres',
          "SELECT 1 FROM pg_locks WHERE NOT granted AND locktype = 'object' AND classid = 'pg_database'::regclass",
        )
      ).length > 0,
    'the swap to wait on the restored database',
  );
  run.child.kill('SIGKILL');
  expect((await run.done).signal).toBe('SIGKILL');
  await blocker.query('ROLLBACK');
  await environment.release(blocker);
  // The killed run's session gets the lock, finds its client gone and rolls its transaction back.
  await waitUntil(
    async () =>
      (
        await environment.query(
          'postgres',
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'topsteel-rollback-swap'",
        )
      ).length === 0,
    'the killed swap session to end',
  );
  return JSON.parse(
    readFileSync(statePath(environment.backupDir, environment.names.auth), 'utf8'),
  ) as RollbackState;
}

/** Every legacy table's rows and content, hashed by the test's own SQL on both sides. */
export async function expectFaithfulCopy(environment: TestEnvironment): Promise<void> {
  const databaseOf = {
    auth: environment.names.auth,
    shared: environment.names.shared,
    tenant: environment.names.defaultTenant,
  };
  for (const table of DEFAULT_PLAN.tables) {
    const columns = await legacyColumns(environment, environment.names.monolith, table.source);
    expect([
      table.source,
      await tableContent(environment, databaseOf[table.database], table.target, columns),
    ]).toEqual([
      table.source,
      await tableContent(environment, environment.names.monolith, table.source, columns),
    ]);
  }
}
