import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { changedTables } from './target-changes-probe';
import { expectFaithfulCopy } from './split-environment';
import { testServer } from '../../../../test/harness/test-server';
import { stepWindows } from '../../../../test/harness/step-windows';

const TABLE_DONE = /✔ (auth|shared|tenant)\./;

async function splitStatus(environment: TestEnvironment): Promise<string | null> {
  if (!(await environment.databaseExists(environment.names.auth))) return null;
  const rows = await environment.query<{ status: string }>(
    environment.names.auth,
    "SELECT status FROM migration_journal.split WHERE to_regclass('migration_journal.split') IS NOT NULL",
  );
  return rows[0]?.status ?? null;
}

describe('db:migrate under faults', () => {
  it('resumes after kill -9 in the middle of the copy, ending complete and verified with no duplicate', async () => {
    const environment = TestEnvironment.create('kill9');
    try {
      await environment.createMonolith({ scale: 10 });
      const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
      await run.waitFor(TABLE_DONE, 3);
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal).toBe('SIGKILL');
      expect(await splitStatus(environment)).toBe('in_progress');

      const rerun = await runCli(['migrate', '--json'], environment.env());
      expect(rerun.code).toBe(0);
      const report = parseJson<{ mode: string; split: { resumed: boolean; verification: { ok: boolean } } }>(
        rerun,
      );
      expect(report.split).toMatchObject({ resumed: true, verification: { ok: true } });
      expect(await splitStatus(environment)).toBe('complete');
      await expectFaithfulCopy(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('stops after the current table on SIGINT with exit 130, and the next run finishes', async () => {
    const environment = TestEnvironment.create('sigint');
    try {
      await environment.createMonolith({ scale: 5 });
      const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
      await run.waitFor(TABLE_DONE, 2);
      run.child.kill('SIGINT');
      const interrupted = await run.done;
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toMatch(/SIGINT received: finishing the current step/);
      expect(await splitStatus(environment)).toBe('in_progress');
      const copying = await environment.query(
        environment.names.auth,
        "SELECT 1 FROM migration_journal.split_tables WHERE status = 'copying'",
      );
      expect(copying).toEqual([]);

      const rerun = await runCli(['migrate'], environment.env());
      expect(rerun.code).toBe(0);
      await expectFaithfulCopy(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('lets one of two concurrent runs work: the other exits 3 naming the holder, or waits and finds nothing to do', async () => {
    const environment = TestEnvironment.create('concurrent');
    try {
      await environment.createMonolith({ scale: 3 });
      const first = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
      await first.waitFor(/Splitting/);
      const impatient = await runCli(['migrate', '--lock-timeout', '300ms'], environment.env());
      expect(impatient.code).toBe(3);
      expect(impatient.stderr).toMatch(
        new RegExp(
          `another run holds the migration lock: "migrate" \\(pid ${first.child.pid} on .+\\) since`,
        ),
      );
      const patient = await runCli(['migrate', '--lock-timeout', '120s', '--json'], environment.env());
      expect((await first.done).code).toBe(0);
      expect(patient.code).toBe(0);
      expect(parseJson<{ mode: string; migrations: { nothingToDo: boolean } }>(patient)).toMatchObject({
        mode: 'schema-migrations',
        migrations: { nothingToDo: true },
      });
      expect(patient.stderr).toContain('Waiting for the migration lock held by "migrate"');
    } finally {
      await environment.cleanup();
    }
  });

  it('is not cut short by timeouts a DBA set on the monolith for the app', async () => {
    const environment = TestEnvironment.create('timeouts');
    try {
      await environment.createMonolith({ scale: 3 });
      const monolith = `"${environment.names.monolith}"`;
      // Each would end the run: a checksum outlasts 1 ms, the snapshot session idles through pg_dump.
      for (const setting of [
        "statement_timeout = '1ms'",
        "idle_in_transaction_session_timeout = '10ms'",
        "idle_session_timeout = '50ms'",
      ])
        await environment.query('postgres', `ALTER DATABASE ${monolith} SET ${setting}`);
      const run = await runCli(['migrate', '--json'], environment.env());
      await environment.query('postgres', `ALTER DATABASE ${monolith} RESET ALL`);
      expect(run.stderr).not.toMatch(/canceling statement|terminating connection|not queryable/);
      expect(run.code).toBe(0);
      expect(await splitStatus(environment)).toBe('complete');
      await expectFaithfulCopy(environment);
    } finally {
      await environment.cleanup();
    }
  });

  it('recopies a table whose source changed after an interrupted run', async () => {
    const environment = TestEnvironment.create('changed');
    try {
      await environment.createMonolith({ scale: 3 });
      const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
      await run.waitFor(/✔ tenant\.commandes/);
      run.child.kill('SIGKILL');
      await run.done;
      await environment.query(
        environment.names.monolith,
        "UPDATE commandes SET statut = 'annulee' WHERE numero = 'CMD-000000003'",
      );
      const rerun = await runCli(['migrate'], environment.env());
      expect(rerun.code).toBe(0);
      const [row] = await environment.query<{ statut: string }>(
        environment.names.defaultTenant,
        "SELECT statut FROM commandes WHERE numero = 'CMD-000000003'",
      );
      expect(row.statut).toBe('annulee');
    } finally {
      await environment.cleanup();
    }
  });

  it('never overwrites a row written into a copied target table after kill -9: exit 1 naming it, or dumped first with --discard-target-changes', async () => {
    const environment = TestEnvironment.create('written');
    try {
      await environment.createMonolith({ scale: 3 });
      const run = new WatchedProcess(spawnCli(['migrate', '--jobs', '1'], environment.env()));
      await run.waitFor(/✔ tenant\.commandes/);
      run.child.kill('SIGKILL');
      await run.done;
      const tenant = environment.names.defaultTenant;
      // The application pointed at the new databases too early and took an order.
      await environment.query(
        tenant,
        "INSERT INTO commandes (numero, client_id, societe_id) SELECT 'CMD-WRITTEN-EARLY', client_id, societe_id FROM commandes LIMIT 1",
      );
      const written = "SELECT count(*)::int AS count FROM commandes WHERE numero = 'CMD-WRITTEN-EARLY'";
      expect(await changedTables(environment)).toEqual([`${tenant}.commandes`]);

      const refused = await runCli(['migrate', '--json'], environment.env());
      expect(refused.code).toBe(1);
      const failure = parseJson<{ error: { code: string; message: string } }>(refused).error;
      expect(failure.code).toBe('TARGET_CHANGED');
      expect(failure.message).toContain(`${tenant}.commandes`);
      expect(await environment.query<{ count: number }>(tenant, written)).toEqual([{ count: 1 }]);

      const discarded = await runCli(['migrate', '--json', '--discard-target-changes'], environment.env());
      expect(discarded.code).toBe(0);
      const { split } = parseJson<{
        split: { discardedTargetChanges: { tables: string[]; folder: string } };
      }>(discarded);
      expect(split.discardedTargetChanges.tables).toEqual([`${tenant}.commandes`]);
      const file = join(split.discardedTargetChanges.folder, `${tenant}.commandes.csv`);
      expect(readFileSync(file, 'utf8')).toContain('CMD-WRITTEN-EARLY');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(split.discardedTargetChanges.folder).mode & 0o777).toBe(0o700);
      expect(discarded.stderr).toContain(split.discardedTargetChanges.folder);
      expect(await splitStatus(environment)).toBe('complete');
      expect(await environment.query<{ count: number }>(tenant, written)).toEqual([{ count: 0 }]);
      await expectFaithfulCopy(environment);
      expect(await changedTables(environment)).toEqual([]);
    } finally {
      await environment.cleanup();
    }
  });

  it("caps an explicit --jobs by the role's CONNECTION LIMIT (4 sessions per copy worker), says so, and completes", async () => {
    const environment = TestEnvironment.create('connlimit');
    const role = `${environment.prefix}_limited`;
    try {
      await environment.createMonolith({ scale: 1 });
      // Same password as the test server's role: the embedded server checks passwords.
      await environment.query(
        'postgres',
        `CREATE ROLE "${role}" LOGIN CREATEDB CONNECTION LIMIT 12 PASSWORD '${testServer().password.replace(/'/g, "''")}'`,
      );
      await environment.query(
        environment.names.monolith,
        `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "${role}"`,
      );
      const result = await runCli(
        ['migrate', '--json', '--jobs', '8'],
        environment.env({ DB_USERNAME: role }),
      );
      expect(result.code).toBe(0);
      const report = parseJson<{
        jobs: { jobs: number; requested: number; capped: boolean; limitedBy: string };
      }>(result);
      expect(report.jobs).toMatchObject({ requested: 8, capped: true, limitedBy: 'role' });
      expect(report.jobs.jobs).toBeLessThanOrEqual(2);
      expect(result.stderr).toContain(`--jobs 8 lowered to ${report.jobs.jobs}`);
      // No room for the verification's sessions beside the keys' validation: it waits for the keys.
      const steps = stepWindows(environment.logDir, 'migrate');
      expect(steps.get('link users to the default société')!.start).toBeGreaterThanOrEqual(
        steps.get('restore foreign keys')!.end,
      );
      expect(await splitStatus(environment)).toBe('complete');
      await expectFaithfulCopy(environment);
    } finally {
      await environment.cleanup();
      await environment.query('postgres', `DROP ROLE IF EXISTS "${role}"`);
    }
  });
});
