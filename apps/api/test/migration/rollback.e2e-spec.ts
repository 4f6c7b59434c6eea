import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { fakeToolFolder, restoreInto } from '../../../../test/harness/fake-tools';
import { databaseContent } from '../../../../test/harness/independent-checksums';
import { DETERMINISTIC_SESSION_SETTINGS } from '../../src/modules/database/postgres-connection.factory';
import { RollbackReport } from '../../src/scripts/migration/rollback-migration';
import {
  ErrorDocument,
  killInsideSwap,
  newDatabases,
  RollbackDocument,
  splitEnvironment,
  statePath,
} from './split-environment';

describe('db:rollback', () => {
  it('drops exactly the databases the journal lists (a look-alike survives) and leaves an unchanged monolith alone', async () => {
    const environment = await splitEnvironment('rbplain');
    try {
      const lookalike = `${environment.prefix}_topsteel_copy`;
      await environment.query('postgres', `CREATE DATABASE "${lookalike}"`);
      const before = await databaseContent(environment, environment.names.monolith);

      const validate = await runNpmScript('db:rollback:validate', ['--json'], environment.env());
      expect(validate.code).toBe(0);
      const validation = parseJson<RollbackDocument>(validate).validation;
      expect(validation.drop.map((database) => database.name).sort()).toEqual(
        newDatabases(environment).sort(),
      );
      expect(validation.untouched).toContain(lookalike);
      expect(validation.restore.needed).toBe(false);
      // Nothing written since the split's backup: proven by one scan per table, no checksum.
      expect(validation.restore.comparison).toBe('no-write-since-dump');

      const result = await runNpmScript('db:rollback', ['--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      const report = parseJson<RollbackDocument>(result).rollback as RollbackReport;
      expect(report).toMatchObject({ restored: false, replacedMonolith: null });
      expect(report.dropped.sort()).toEqual(newDatabases(environment).sort());
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      expect(await environment.databaseExists(lookalike)).toBe(true);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
      expect(report.nextSteps.join(' ')).toContain('DB_MODE=monolith');

      const again = await runCli(['rollback', '--yes'], environment.env());
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Nothing to roll back');
    } finally {
      await environment.cleanup();
    }
  });

  it('restores rows deleted from the monolith, verified against the manifest, keeping the replaced one aside', async () => {
    const environment = await splitEnvironment('rbrestore');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      await environment.query(
        environment.names.monolith,
        "DELETE FROM commandes WHERE numero LIKE 'CMD-0000001%'",
      );
      const validation = parseJson<RollbackDocument>(
        await runCli(['rollback', '--validate', '--json'], environment.env()),
      ).validation;
      expect(validation.restore.needed).toBe(true);
      expect(validation.restore.comparison).toBe('checksums');
      expect(validation.restore.differences.map((difference) => difference.table)).toContain(
        'public.commandes',
      );
      // Room for the restore: measured when the data directory is visible from here, else said so.
      const room = validation.checks.find((check) => check.id === 'server-room');
      expect(room?.detail).toMatch(/ free on .* needed|cannot be checked: /);

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      const report = parseJson<RollbackDocument>(result).rollback as RollbackReport;
      expect(report.restored).toBe(true);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
      expect(await environment.databaseExists(report.replacedMonolith as string)).toBe(true);
      const [kept] = await environment.query<{ count: string }>(
        report.replacedMonolith as string,
        'SELECT count(*) FROM commandes',
      );
      expect(Number(kept.count)).toBe(before.commandes.rows - 100);
    } finally {
      await environment.cleanup();
    }
  });

  it('refuses when rows were written after the split; with --accept-data-loss they are in the pre-drop dump', async () => {
    const environment = await splitEnvironment('rbdataloss');
    try {
      const [societe] = await environment.query<{ id: string }>(
        environment.names.auth,
        "SELECT id FROM societes WHERE code = 'TOPSTEEL'",
      );
      await environment.query(
        environment.names.defaultTenant,
        "INSERT INTO clients (nom, numero_client, societe_id) VALUES ('Client après bascule', 'CLI-APRES-1', $1)",
        [societe.id],
      );

      const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(validate.code).toBe(1);
      const validation = parseJson<RollbackDocument>(validate).validation;
      expect(validation.postSplitData).toEqual([
        expect.objectContaining({ database: environment.names.defaultTenant, table: 'public.clients' }),
      ]);
      const refused = await runCli(['rollback', '--yes'], environment.env());
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--accept-data-loss');
      expect(await environment.databaseExists(environment.names.defaultTenant)).toBe(true);

      const accepted = await runCli(['rollback', '--yes', '--accept-data-loss', '--json'], environment.env());
      expect(accepted.code).toBe(0);
      const report = parseJson<RollbackDocument>(accepted).rollback as RollbackReport;
      const dump = join(report.preDropBackup as string, `${environment.names.defaultTenant}.dump`);
      expect(existsSync(dump)).toBe(true);
      const scratch = `${environment.prefix}_predrop`;
      await restoreInto(environment, dump, scratch);
      const rows = await environment.query(
        scratch,
        "SELECT nom FROM clients WHERE numero_client = 'CLI-APRES-1'",
      );
      expect(rows).toEqual([{ nom: 'Client après bascule' }]);
    } finally {
      await environment.cleanup();
    }
  });

  it('compares a journal recorded with text checksums (before typed ones) in text: no false change, a real one named', async () => {
    const environment = await splitEnvironment('rbtextjournal');
    try {
      const recorded = await environment.query<{ database: string; table: string; checksum: string }>(
        environment.names.auth,
        'SELECT database, table_name AS table, checksum FROM migration_journal.database_snapshots',
      );
      expect(recorded.length).toBeGreaterThan(0);
      expect(recorded.every((row) => row.checksum.startsWith('typed:'))).toBe(true);
      // What an older version recorded: the sum of each row's text hash, in the tool's session settings.
      for (const row of recorded) {
        const [schema, name] = row.table.split('.');
        const client = await environment.client(row.database);
        try {
          await client.query(DETERMINISTIC_SESSION_SETTINGS);
          const [text] = (
            await client.query<{ checksum: string }>(
              `SELECT coalesce(sum(hashtextextended(ROW(t.*)::text, 0)), 0)::text AS checksum FROM "${schema}"."${name}" AS t`,
            )
          ).rows;
          await environment.query(
            environment.names.auth,
            'UPDATE migration_journal.database_snapshots SET checksum = $3 WHERE database = $1 AND table_name = $2',
            [row.database, row.table, text.checksum],
          );
        } finally {
          await environment.release(client);
        }
      }
      const clean = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(clean.code).toBe(0);
      expect(parseJson<RollbackDocument>(clean).validation.postSplitData).toEqual([]);

      await environment.query(
        environment.names.defaultTenant,
        "UPDATE clients SET nom = nom || ' (modifié)' WHERE id = (SELECT min(id::text)::uuid FROM clients)",
      );
      const changed = await runCli(['rollback', '--validate', '--json'], environment.env());
      expect(changed.code).toBe(1);
      expect(parseJson<RollbackDocument>(changed).validation.postSplitData).toEqual([
        expect.objectContaining({ database: environment.names.defaultTenant, table: 'public.clients' }),
      ]);
    } finally {
      await environment.cleanup();
    }
  });

  it('asks for confirmation: without a terminal and without --yes it changes nothing and exits 2', async () => {
    const environment = await splitEnvironment('rbconfirm');
    try {
      const result = await runCli(['rollback'], environment.env());
      expect(result.code).toBe(2);
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(true);
    } finally {
      await environment.cleanup();
    }
  });

  it('restores before it drops: a failing pg_restore leaves AUTH, SHARED, the tenant and the monolith in place and open, names the step', async () => {
    const environment = await splitEnvironment('rbresume');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      await environment.query(
        environment.names.monolith,
        "DELETE FROM facturation WHERE numero LIKE 'FAC-0000000%'",
      );
      const damaged = await databaseContent(environment, environment.names.monolith);
      const failing = fakeToolFolder(environment.root, { pg_restore: 'fail-on-restore' });
      const interrupted = await runCli(
        ['rollback', '--yes', '--json'],
        environment.env({ PG_BIN_DIR: failing }),
      );
      expect(interrupted.code).toBe(1);
      for (const database of [...newDatabases(environment), environment.names.monolith]) {
        const [row] = await environment.query<{ allowed: boolean }>(
          'postgres',
          'SELECT datallowconn AS allowed FROM pg_database WHERE datname = $1',
          [database],
        );
        expect([database, row?.allowed]).toEqual([database, true]);
      }
      const { error } = parseJson<ErrorDocument>(interrupted);
      expect(error.code).toBe('STOPPED_BEFORE_SWAP');
      expect(error.message).toContain('restore the monolith backup into a new database');
      expect(error.message).toContain('simulated failure');
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(damaged);
      // No partial restore left behind, and nothing recorded that would block db:migrate.
      expect(
        await environment.query('postgres', 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
          `${environment.names.monolith}_%`,
        ]),
      ).toEqual([]);
      expect(existsSync(statePath(environment.backupDir, environment.names.auth))).toBe(false);
      expect((await runCli(['migrate'], environment.env())).code).toBe(0);

      const rerun = await runCli(['rollback', '--yes'], environment.env());
      expect(rerun.code).toBe(0);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      expect(existsSync(statePath(environment.backupDir, environment.names.auth))).toBe(false);
      const leftovers = readdirSync(join(environment.backupDir, 'rollback')).filter((name) =>
        name.startsWith('.'),
      );
      expect(leftovers).toEqual([]);
    } finally {
      await environment.cleanup();
    }
  });

  it('does not drop a database written to after its pre-drop dump: all stay, open, and the next run dumps again', async () => {
    const environment = await splitEnvironment('rbrace');
    try {
      const [societe] = await environment.query<{ id: string }>(
        environment.names.auth,
        "SELECT id FROM societes WHERE code = 'TOPSTEEL'",
      );
      // The application writes into the tenant right after the tool dumped it, before the drop.
      const racing = fakeToolFolder(environment.root, {
        afterDump: {
          database: environment.names.defaultTenant,
          sql: `INSERT INTO clients (nom, numero_client, societe_id) VALUES ('Écrit pendant le rollback', 'CLI-COURSE-1', '${societe.id}')`,
        },
      });
      const refused = await runCli(['rollback', '--yes', '--json'], environment.env({ PG_BIN_DIR: racing }));
      expect(refused.code).toBe(1);
      expect(parseJson<ErrorDocument>(refused).error).toMatchObject({ code: 'WRITTEN_AFTER_DUMP' });
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(true);
      // Doors open again: the row is there and readable by a new session.
      expect(
        await environment.query(
          environment.names.defaultTenant,
          "SELECT nom FROM clients WHERE numero_client = 'CLI-COURSE-1'",
        ),
      ).toEqual([{ nom: 'Écrit pendant le rollback' }]);

      // The row is post-split data now: the rerun needs --accept-data-loss, and keeps it in a new dump.
      expect((await runCli(['rollback', '--yes'], environment.env())).code).toBe(1);
      const rerun = await runCli(['rollback', '--yes', '--accept-data-loss', '--json'], environment.env());
      expect(rerun.code).toBe(0);
      const report = parseJson<RollbackDocument>(rerun).rollback as RollbackReport;
      for (const database of newDatabases(environment))
        expect(await environment.databaseExists(database)).toBe(false);
      const scratch = `${environment.prefix}_raced`;
      await restoreInto(
        environment,
        join(report.preDropBackup as string, `${environment.names.defaultTenant}.dump`),
        scratch,
      );
      expect(
        await environment.query(scratch, "SELECT nom FROM clients WHERE numero_client = 'CLI-COURSE-1'"),
      ).toEqual([{ nom: 'Écrit pendant le rollback' }]);
    } finally {
      await environment.cleanup();
    }
  });

  it('does not drop AUTH when its structure changed after the pre-drop dump: all three reopen, none dropped', async () => {
    const environment = await splitEnvironment('rbddl');
    try {
      // AUTH is checked last, so the tenant and SHARED were already closed when the refusal comes.
      const racing = fakeToolFolder(environment.root, {
        afterDump: {
          database: environment.names.auth,
          sql: 'CREATE VIEW active_users AS SELECT id, email FROM users WHERE deleted_at IS NULL',
        },
      });
      const refused = await runCli(['rollback', '--yes', '--json'], environment.env({ PG_BIN_DIR: racing }));
      expect(refused.code).toBe(1);
      const { error } = parseJson<ErrorDocument>(refused);
      expect(error.code).toBe('WRITTEN_AFTER_DUMP');
      expect(error.message).toContain('active_users');
      for (const database of newDatabases(environment)) {
        const [row] = await environment.query<{ allowed: boolean }>(
          'postgres',
          'SELECT datallowconn AS allowed FROM pg_database WHERE datname = $1',
          [database],
        );
        expect([database, row?.allowed]).toEqual([database, true]);
      }
    } finally {
      await environment.cleanup();
    }
  });

  it('after a kill -9 inside the swap, refuses when the restore vanished and resumes once it is in place', async () => {
    const environment = await splitEnvironment('rbswap');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      await environment.query(
        environment.names.monolith,
        "DELETE FROM devis WHERE numero LIKE 'DEV-0000000%'",
      );
      const state = await killInsideSwap(environment);
      expect(state.restore).toMatchObject({ needed: true, restored: true, swapped: false });

      // The restore is nowhere and the monolith is the damaged one.
      await environment.query('postgres', `DROP DATABASE "${state.restore.newName}"`);
      const vanished = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(vanished.code).toBe(1);
      expect(parseJson<ErrorDocument>(vanished).error.code).toBe('INCONSISTENT');
      expect(await databaseContent(environment, environment.names.monolith)).not.toEqual(before);

      // What a crash right after the swap's commit leaves: restore in place under the monolith's name.
      const backupPath = state.backup?.path as string;
      const manifest = JSON.parse(readFileSync(join(backupPath, 'manifest.json'), 'utf8')) as {
        databases: { database: string; role: string; file: string }[];
      };
      const entry = manifest.databases.find((database) => database.role === 'monolith');
      await restoreInto(environment, join(backupPath, entry?.file as string), state.restore.newName);
      await environment.query(
        'postgres',
        `ALTER DATABASE "${environment.names.monolith}" RENAME TO "${state.restore.replacedName}"`,
      );
      await environment.query(
        'postgres',
        `ALTER DATABASE "${state.restore.newName}" RENAME TO "${environment.names.monolith}"`,
      );
      const rerun = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(rerun.code).toBe(0);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
      expect(await environment.databaseExists(state.restore.replacedName as string)).toBe(true);
      expect(existsSync(statePath(environment.backupDir, environment.names.auth))).toBe(false);
    } finally {
      await environment.cleanup();
    }
  });
});
