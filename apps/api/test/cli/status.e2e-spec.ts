import { legacyTableNames } from '@topsteel/legacy-fixture';
import { freePort } from '../../src/common/embedded/embedded-postgres.server';
import { StatusReport } from '../../src/scripts/migration/status/migration-status.service';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type StatusDocument = StatusReport & { exitCode: number };

describe('db:status', () => {
  const environment = TestEnvironment.create('status');

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  it('prints valid JSON naming all 66 tables of a fresh monolith with their exact row counts', async () => {
    const result = await runNpmScript('db:status', ['--json'], environment.env());
    expect(result.code).toBe(0);
    const report = parseJson<StatusDocument>(result);
    expect(report.monolith.tables.map((table) => table.name).sort()).toEqual([...legacyTableNames()].sort());
    // count(*) of every table in one statement, independently of the tool.
    const counts = await environment.query<{ name: string; rows: number }>(
      environment.names.monolith,
      `SELECT name, (xpath('/row/c/text()',
                query_to_xml(format('SELECT count(*) AS c FROM %I', name), false, true, '')))[1]::text::int AS rows
       FROM unnest($1::text[]) AS name`,
      [legacyTableNames()],
    );
    const byName = (rows: { name: string; rows: number }[]) =>
      rows
        .map(({ name, rows: count }) => [name, count])
        .sort(([left], [right]) => String(left).localeCompare(String(right)));
    expect(byName(report.monolith.tables)).toEqual(byName(counts));
    expect(counts.find((table) => table.name === 'clients')?.rows).toBeGreaterThan(0);
    expect(report.split.status).toBe('not-started');
    expect(report.databases.map((database) => [database.name, database.exists])).toEqual([
      [environment.names.auth, false],
      [environment.names.shared, false],
      [environment.names.defaultTenant, false],
    ]);
  });

  it('prints a readable report without --json', async () => {
    const result = await runCli(['status'], environment.env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Monolith ${environment.names.monolith}: 66 tables`);
  });

  // The cold start itself ("well under two seconds") is a figure of npm run bench (start-up).
  it('answers --help with no usable configuration or server', async () => {
    const result = await runCli(
      ['status', '--help'],
      environment.env({ DB_PORT: 'not-a-port', DB_HOST: '203.0.113.1' }),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage:');
    expect(result.stdout).toContain('npm run -s db:status -- --json');
    expect(result.stderr).toBe('');
  });

  // `--help` and `<command> --help` come from the table the build writes; a request with anything
  // more goes through the full Nest CLI. Both must print the same, so the table cannot drift.
  it('answers help from the build table exactly as the full CLI does, for every command', async () => {
    const env = environment.env({ DB_PORT: 'not-a-port', DB_HOST: '203.0.113.1' });
    const root = await runCli(['--help'], env);
    const names = [...root.stdout.matchAll(/^ {2}(\S+) \[options\]/gm)].map((match) => match[1]);
    expect(names).toEqual(expect.arrayContaining(['status', 'migrate', 'societe:create']));
    expect(root).toEqual(await runCli(['--help', '--help', '--help'], env));
    for (const name of names) {
      const fromTable = await runCli([name, '--help'], env);
      expect({ name, code: fromTable.code, stderr: fromTable.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(fromTable).toEqual(await runCli([name, '--help', '--help'], env));
      expect(await runCli(['help', name], env)).toEqual(fromTable);
    }
  });

  it('exits 2 on invalid configuration, naming the variable', async () => {
    const result = await runCli(
      ['status', '--json'],
      environment.env({ DB_PORT: 'abc', DB_NAME: 'erp"; drop database x; --' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DB_PORT');
    expect(result.stderr).toContain('DB_NAME');
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('INVALID_ENVIRONMENT');
  });

  it('exits 2 on an unknown flag or a stray argument', async () => {
    expect((await runCli(['status', '--no-such-flag'], environment.env())).code).toBe(2);
    expect((await runCli(['status', 'extra'], environment.env())).code).toBe(2);
    expect((await runCli(['no-such-command'], environment.env())).code).toBe(2);
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    const result = await runCli(
      ['status'],
      environment.env({
        DB_HOST: '127.0.0.1',
        DB_PORT: String(await freePort()),
        DB_CONNECTION_TIMEOUT: '2000',
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach database "postgres" on 127\.0\.0\.1:\d+/);
    expect(result.stderr).toContain('→');
  });
});
