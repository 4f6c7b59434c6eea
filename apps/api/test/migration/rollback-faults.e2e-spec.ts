import { existsSync } from 'node:fs';
import { StatusReport } from '../../src/scripts/migration/status/migration-status.service';
import { parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { databaseContent } from '../../../../test/harness/independent-checksums';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { RollbackReport } from '../../src/scripts/migration/rollback-migration';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { fakeToolFolder } from '../../../../test/harness/fake-tools';
import {
  ErrorDocument,
  killInsideSwap,
  newDatabases,
  RollbackDocument,
  splitEnvironment,
  splitKilledMidCopy,
  statePath,
} from './split-environment';

async function acceptsConnections(environment: TestEnvironment, database: string): Promise<boolean | null> {
  const rows = await environment.query<{ allowed: boolean }>(
    'postgres',
    'SELECT datallowconn AS allowed FROM pg_database WHERE datname = $1',
    [database],
  );
  return rows[0]?.allowed ?? null;
}

const monolithCopies = async (environment: TestEnvironment) =>
  (
    await environment.query<{ datname: string }>(
      'postgres',
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${environment.names.monolith}_%`],
    )
  ).map((row) => row.datname);

describe('db:rollback under faults', () => {
  it('never restores a backup over the live monolith once the rollback is done (no split recorded)', async () => {
    const environment = await splitEnvironment('rbtwice');
    try {
      expect((await runCli(['rollback', '--yes'], environment.env())).code).toBe(0);
      // A newer backup that is not the split's (as clean --execute takes), then the app writes.
      expect((await runCli(['backup'], environment.env())).code).toBe(0);
      await environment.query(
        environment.names.monolith,
        "INSERT INTO clients (nom, email) VALUES ('order after rollback', 'buyer@realcorp.fr')",
      );

      const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(validate.code).toBe(0);
      const validation = parseJson<RollbackDocument>(validate).validation;
      expect(validation).toMatchObject({ nothingToDo: true, restore: { needed: false } });
      expect(validation.checks.map((check) => check.detail).join(' ')).toContain('no split is recorded');

      const again = await runCli(['rollback', '--yes'], environment.env());
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Nothing to roll back');
      expect(again.stdout).toContain('no split is recorded');
      expect(
        await environment.query(
          environment.names.monolith,
          "SELECT nom FROM clients WHERE email = 'buyer@realcorp.fr'",
        ),
      ).toEqual([{ nom: 'order after rollback' }]);
      expect(await monolithCopies(environment)).toEqual([]);
    } finally {
      await environment.cleanup();
    }
  });

  it('finishes a rollback killed with -9 while a database was closed to connections; validate and status report it', async () => {
    const environment = await splitEnvironment('rbdoors');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      await environment.query(
        environment.names.auth,
        "INSERT INTO roles (name, description) VALUES ('role after split', 'written by the app')",
      );
      const run = new WatchedProcess(
        spawnCli(['rollback', '--yes', '--accept-data-loss', '--verbose'], environment.env()),
      );
      // Tenant, SHARED, then AUTH are checked against their dump, each closed once checked, and all
      // stay closed until their drop; AUTH, which holds the journal, is dropped last.
      await run.waitFor(new RegExp(`check ${environment.names.auth} against its dump done in`));
      run.child.kill('SIGKILL');
      expect((await run.done).signal).toBe('SIGKILL');
      expect(await acceptsConnections(environment, environment.names.auth)).toBe(false);

      const status = await runCli(['status', '--json'], environment.env());
      expect(status.code).toBe(0);
      const report = parseJson<StatusReport>(status);
      expect(report.rollbackInProgress).not.toBeNull();
      expect(report.split.status).toBe('unknown');
      const auth = report.databases.find((database) => database.name === environment.names.auth);
      expect(auth).toMatchObject({ exists: true, closed: true });
      expect(auth?.closedBy).toContain('interrupted rollback');

      const validate = await runCli(['rollback', '--validate', '--accept-data-loss'], environment.env());
      expect(validate.code).toBe(0);
      expect(validate.stdout).toContain(
        `${environment.names.auth} closed by an interrupted rollback: run db:rollback to finish it`,
      );
      // Validate changed nothing.
      expect(await acceptsConnections(environment, environment.names.auth)).toBe(false);

      const rerun = await runCli(['rollback', '--yes', '--accept-data-loss'], environment.env());
      expect(rerun.code).toBe(0);
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      expect(existsSync(statePath(environment.backupDir, environment.names.auth))).toBe(false);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
    } finally {
      await environment.cleanup();
    }
  });

  it('rolls back a split killed mid-copy without --accept-data-loss: the new databases hold only copies', async () => {
    const environment = TestEnvironment.create('rbhalf');
    try {
      await splitKilledMidCopy(environment);
      const before = await databaseContent(environment, environment.names.monolith);

      const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(validate.code).toBe(0);
      const validation = parseJson<RollbackDocument>(validate).validation;
      expect(validation.postSplitData).toEqual([]);
      expect(validation.checks.find((check) => check.id === 'post-split-data')?.detail).toContain(
        'the split never completed',
      );

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      const rollback = parseJson<RollbackDocument>(result).rollback as RollbackReport;
      expect(rollback.preDropBackup).not.toBeNull();
      expect(existsSync(rollback.preDropBackup as string)).toBe(true);
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
    } finally {
      await environment.cleanup();
    }
  });

  it('names a table of an unfinished split written into since the tool loaded it, and needs --accept-data-loss', async () => {
    const environment = TestEnvironment.create('rbwritten');
    try {
      await splitKilledMidCopy(environment);
      const [loaded] = await environment.query<{ database: string; table: string }>(
        environment.names.auth,
        `SELECT target_database AS database, target_table AS "table" FROM migration_journal.split_tables
         WHERE status <> 'copying' AND rows > 0 AND loaded_xids IS NOT NULL ORDER BY rows DESC LIMIT 1`,
      );
      // Someone fixes a row in a table the tool had already loaded (an app pointed at it too early).
      await environment.query(
        loaded.database,
        `DELETE FROM "${loaded.table}" WHERE ctid = (SELECT ctid FROM "${loaded.table}" LIMIT 1)`,
      );

      const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(validate.code).toBe(1);
      const validation = parseJson<RollbackDocument>(validate).validation;
      expect(validation.postSplitData).toContainEqual(
        expect.objectContaining({ database: loaded.database, table: `public.${loaded.table}` }),
      );
      const refused = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(refused.code).toBe(1);
      expect(await environment.databaseExists(loaded.database)).toBe(true);
    } finally {
      await environment.cleanup();
    }
  });

  it('refuses when AUTH (the journal) is gone but databases marked as the tool’s remain', async () => {
    const environment = await splitEnvironment('rbnojournal');
    try {
      await environment.query('postgres', `DROP DATABASE "${environment.names.auth}" WITH (FORCE)`);
      const orphans = [environment.names.shared, environment.names.defaultTenant];

      const validate = await runCli(['rollback', '--validate'], environment.env());
      expect(validate.code).toBe(1);
      for (const name of orphans) expect(validate.stdout).toContain(name);
      expect(validate.stdout).toContain('the journal');

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(1);
      const error = parseJson<ErrorDocument>(result).error;
      for (const name of orphans) expect(error.message).toContain(name);
      expect(error.message).toContain('never dropped without the journal');
      for (const name of orphans) expect(await environment.databaseExists(name)).toBe(true);
    } finally {
      await environment.cleanup();
    }
  });

  it('a kill -9 inside the swap (monolith closed, renames not committed) is finished by the rerun: the monolith is reachable', async () => {
    const environment = await splitEnvironment('rbswapkill');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      await environment.query(
        environment.names.monolith,
        "DELETE FROM commandes WHERE numero LIKE 'CMD-0000001%'",
      );
      const state = await killInsideSwap(environment);
      // The renames rolled back with the killed session: the damaged monolith is closed, the restore waits.
      expect(await acceptsConnections(environment, environment.names.monolith)).toBe(false);
      expect(await environment.databaseExists(state.restore.newName)).toBe(true);
      expect(state.closedDoors).toContain(environment.names.monolith);
      const status = await runCli(['status', '--json'], environment.env());
      expect(status.code).toBe(0);
      expect(parseJson<StatusReport>(status).monolith).toMatchObject({ exists: true, closed: true });
      for (const database of newDatabases(environment))
        expect(await acceptsConnections(environment, database)).toBe(true);

      const rerun = await runCli(['rollback', '--yes'], environment.env());
      expect(rerun.code).toBe(0);
      expect(rerun.stderr).toContain(`Reopened ${environment.names.monolith}`);
      expect(await acceptsConnections(environment, environment.names.monolith)).toBe(true);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
      expect(await acceptsConnections(environment, state.restore.replacedName as string)).toBe(true);
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      expect(existsSync(statePath(environment.backupDir, environment.names.auth))).toBe(false);
    } finally {
      await environment.cleanup();
    }
  });

  it("another installation's unfinished rollback in the same BACKUP_DIR blocks neither this one's migrate nor its rollback", async () => {
    const ours = await splitEnvironment('rbinsta');
    const theirs = TestEnvironment.create('rbinstb');
    try {
      await theirs.createMonolith();
      const shared = { BACKUP_DIR: ours.backupDir };
      expect((await runCli(['migrate'], theirs.env(shared))).code).toBe(0);
      // Their rollback stops after its pre-drop dump (the application wrote meanwhile): unfinished.
      const [societe] = await theirs.query<{ id: string }>(
        theirs.names.auth,
        "SELECT id FROM societes WHERE code = 'TOPSTEEL'",
      );
      const racing = fakeToolFolder(theirs.root, {
        afterDump: {
          database: theirs.names.defaultTenant,
          sql: `INSERT INTO clients (nom, numero_client, societe_id) VALUES ('Écrit chez eux', 'CLI-EUX-1', '${societe.id}')`,
        },
      });
      const stopped = await runCli(['rollback', '--yes'], theirs.env({ ...shared, PG_BIN_DIR: racing }));
      expect(stopped.code).toBe(1);
      expect(existsSync(statePath(ours.backupDir, theirs.names.auth))).toBe(true);
      const blocked = await runCli(['migrate', '--json'], theirs.env(shared));
      expect(blocked.code).toBe(1);
      expect(parseJson<ErrorDocument>(blocked).error.code).toBe('IN_PROGRESS');

      expect((await runCli(['migrate'], ours.env())).code).toBe(0);
      const status = parseJson<StatusReport>(await runCli(['status', '--json'], ours.env()));
      expect(status.rollbackInProgress).toBeNull();
      const validation = parseJson<RollbackDocument>(
        await runCli(['rollback', '--validate', '--json'], ours.env()),
      ).validation;
      expect(validation).toMatchObject({ ok: true, inProgress: false });
      expect((await runCli(['rollback', '--yes'], ours.env())).code).toBe(0);
      expect(existsSync(statePath(ours.backupDir, theirs.names.auth))).toBe(true);
    } finally {
      await theirs.cleanup();
      await ours.cleanup();
    }
  });
});
