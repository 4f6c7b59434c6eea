import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CleanReport, CleanRestoreReport } from '../../src/scripts/migration/clean-test-data';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { databaseContent, TableContent } from '../../../../test/harness/independent-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type CleanDocument = CleanReport & { exitCode: number };

const perTable = (report: CleanReport): Record<string, number> =>
  Object.fromEntries(
    report.totals.deleted.map((entry) => [entry.table.replace(/^public\./, ''), entry.rows]),
  );

describe('db:clean --target auth on a split made by db:migrate', () => {
  const environment = TestEnvironment.create('cleanauth');
  const auth = environment.names.auth;
  let original: Record<string, TableContent>;
  let dryRun: CleanDocument;
  let executed: CleanDocument;

  beforeAll(async () => {
    await environment.createMonolith();
    const split = await runCli(['migrate'], environment.env());
    expect(split.code).toBe(0);
    original = await databaseContent(environment, auth);
  });
  afterAll(() => environment.cleanup());

  it('dry run: the periodic rule on expires_at selects the sessions the monolith rule selects, nothing written', async () => {
    const result = await runNpmScript('db:clean', ['--target', 'auth', '--json'], environment.env());
    expect(result.code).toBe(0);
    dryRun = parseJson<CleanDocument>(result);
    expect(dryRun).toMatchObject({ mode: 'dry-run', target: 'auth', database: auth });
    expect(dryRun.rules.map((rule) => rule.name)).toEqual(['expired-sessions', 'expired-mfa-sessions']);
    const [expected] = await environment.query<{ sessions: string; mfa: string }>(
      auth,
      `SELECT (SELECT count(*) FROM user_sessions WHERE expires_at < (now() AT TIME ZONE 'UTC') - interval '7 days') AS sessions,
              (SELECT count(*) FROM mfa_session WHERE "expiresAt" < (now() AT TIME ZONE 'UTC') - interval '7 days') AS mfa`,
    );
    expect(perTable(dryRun)).toEqual({
      user_sessions: Number(expected.sessions),
      mfa_session: Number(expected.mfa),
    });
    expect(Number(expected.sessions)).toBeGreaterThan(0);

    // One definition of an ended session before and after the split.
    const monolith = parseJson<CleanDocument>(
      await runCli(
        ['clean', '--rule', 'expired-sessions', '--rule', 'expired-mfa-sessions', '--json'],
        environment.env(),
      ),
    );
    expect(perTable(monolith)).toEqual(perTable(dryRun));
    expect(await databaseContent(environment, auth)).toEqual(original);
  });

  it('execute archives and deletes exactly those rows, without a db:backup (the archive is the safety net)', async () => {
    const backups = readdirSync(join(environment.backupDir, 'pre-migration'));
    const result = await runNpmScript('db:clean:execute', ['--target', 'auth', '--json'], environment.env());
    expect(result.code).toBe(0);
    executed = parseJson<CleanDocument>(result);
    expect(perTable(executed)).toEqual(perTable(dryRun));
    expect(executed.backup).toMatchObject({ policy: 'not-required' });
    expect(executed.archive).toMatchObject({ deletedRows: dryRun.totals.deletedRows, modifiedRows: 0 });
    expect(readdirSync(join(environment.backupDir, 'pre-migration'))).toEqual(backups);

    const after = await databaseContent(environment, auth);
    const gone: Record<string, number> = {};
    for (const [table, content] of Object.entries(original))
      if (content.rows !== after[table].rows) gone[table] = content.rows - after[table].rows;
    expect(gone).toEqual(perTable(dryRun));
  });

  it('is safe to schedule: the next run has nothing to do and exits 0', async () => {
    const result = await runNpmScript('db:clean:execute', ['--target', 'auth', '--json'], environment.env());
    expect(result.code).toBe(0);
    expect(parseJson<CleanDocument>(result)).toMatchObject({ nothingToDo: true, archive: null, exitCode: 0 });
    const text = await runCli(['clean', '--execute', '--target', 'auth'], environment.env());
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Nothing to do');
  });

  it('--restore puts the AUTH archive back with identical content', async () => {
    const result = await runNpmScript(
      'db:clean',
      ['--restore', executed.archive!.name, '--json'],
      environment.env(),
    );
    expect(result.code).toBe(0);
    expect(parseJson<CleanRestoreReport>(result)).toMatchObject({
      target: 'auth',
      insertedRows: dryRun.totals.deletedRows,
    });
    expect(await databaseContent(environment, auth)).toEqual(original);
  });

  it('leaves the monolith as the split read it: execute refuses, the dry run says why and exits 0', async () => {
    const monolith = await databaseContent(environment, environment.names.monolith);
    const result = await runNpmScript('db:clean:execute', ['--json'], environment.env());
    expect(result.code).toBe(1);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('MONOLITH_FROZEN');
    const preview = await runCli(['clean', '--json'], environment.env());
    expect(preview.code).toBe(0);
    expect(parseJson<CleanDocument>(preview).notes.join(' ')).toContain('a split is recorded');
    expect(await databaseContent(environment, environment.names.monolith)).toEqual(monolith);
  });

  it('exits 2 for a monolith rule on AUTH, listing the AUTH rules', async () => {
    const result = await runCli(['clean', '--target', 'auth', '--rule', 'demo-users'], environment.env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('valid rules: expired-sessions, expired-mfa-sessions');
  });

  it('refuses an AUTH rule whose predicate writes through a function: exit 2, nothing written or deleted', async () => {
    const before = await databaseContent(environment, auth);
    await environment.query(
      auth,
      `CREATE TABLE clean_probe_log (n integer);
       CREATE FUNCTION clean_probe_write() RETURNS boolean LANGUAGE sql AS $$ INSERT INTO clean_probe_log VALUES (1) RETURNING true $$`,
    );
    try {
      const rulesFile = join(environment.root, 'writing-rule.json');
      const rule = { name: 'writes', description: 'hostile', target: 'auth', table: 'user_sessions' };
      writeFileSync(rulesFile, JSON.stringify({ rules: [{ ...rule, predicate: 'clean_probe_write()' }] }));
      // --target auth runs no read-only preview first: only the read-only planning stops the write.
      const result = await runNpmScript(
        'db:clean:execute',
        ['--target', 'auth', '--rules-file', rulesFile, '--rule', 'writes', '--json'],
        environment.env(),
      );
      expect(result.code).toBe(2);
      const error = parseJson<{ error: { code: string; message: string } }>(result).error;
      expect(error.code).toBe('RULE_WRITES');
      expect(error.message).toContain('rule writes');
      expect(await environment.query(auth, 'SELECT * FROM clean_probe_log')).toEqual([]);
    } finally {
      await environment.query(auth, 'DROP FUNCTION clean_probe_write(); DROP TABLE clean_probe_log');
    }
    expect(await databaseContent(environment, auth)).toEqual(before);
  });
});
