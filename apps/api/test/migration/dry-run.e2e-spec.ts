import { legacyTableNames, SEEDED_PROBLEMS } from '@topsteel/legacy-fixture';
import { freePort } from '../../src/common/embedded/embedded-postgres.server';
import { DryRunReport } from '../../src/scripts/migration/dry-run-migration';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { testServer } from '../../../../test/harness/test-server';

type DryRunDocument = DryRunReport & { exitCode: number };

describe('db:migration:dry-run', () => {
  const environment = TestEnvironment.create('dryrun');

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  /** A drifted copy of the fixture monolith. */
  const drifted = async (suffix: string, sql: string): Promise<Record<string, string>> => {
    const name = await environment.createMonolith({ name: `${environment.prefix}_${suffix}` });
    await environment.query(name, sql);
    return { DB_NAME: name };
  };

  const dryRun = async (overrides: Record<string, string> = {}, args: string[] = []) => {
    const result = await runCli(['dry-run', '--json', ...args], environment.env(overrides));
    return { result, report: parseJson<DryRunDocument>(result) };
  };

  it('passes on the generated monolith and places each of the 66 tables', async () => {
    const result = await runNpmScript('db:migration:dry-run', ['--json'], environment.env());
    expect(result.code).toBe(0);
    const report = parseJson<DryRunDocument>(result);
    expect(report.ok).toBe(true);
    expect(report.checks.every((check) => check.ok)).toBe(true);
    const placed = [
      ...report.plan.tables.map((table) => table.source),
      ...report.plan.excluded.map((table) => table.source),
    ];
    expect(placed.sort()).toEqual([...legacyTableNames()].sort());
    expect(report.plan.excluded.every((table) => table.reason.length > 10)).toBe(true);
    const [commandes] = await environment.query<{ count: string }>(
      environment.names.monolith,
      'SELECT count(*) FROM commandes',
    );
    expect(report.plan.tables.find((table) => table.source === 'commandes')).toMatchObject({
      target: 'commandes',
      database: 'tenant',
      rows: Number(commandes.count),
    });
    expect(report.plan.tables.find((table) => table.source === 'materiaux')).toMatchObject({
      target: 'shared_materials',
      database: 'shared',
    });
    expect(report.notes.join(' ')).toMatch(/test data.*db:clean/);
    expect(report.notes.join(' ')).toMatch(
      new RegExp(
        `${SEEDED_PROBLEMS.demoUsers} user\\(s\\) and ${SEEDED_PROBLEMS.demoClients} client\\(s\\) on demo e-mail domains.*db:clean`,
      ),
    );
  });

  it('prints ✅ for every check in text mode', async () => {
    const result = await runCli(['dry-run'], environment.env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✅ ready to migrate');
    expect(result.stdout).not.toContain('❌');
  });

  it('fails on an extra table, naming it, and passes again when it is excluded knowingly', async () => {
    const env = await drifted(
      'extratable',
      'CREATE TABLE audit_trail_2024 (id int PRIMARY KEY, payload text); INSERT INTO audit_trail_2024 VALUES (1, $$x$$)',
    );
    const failing = await dryRun(env);
    expect(failing.result.code).toBe(1);
    expect(failing.report.checks.find((check) => check.id === 'plan-coverage')).toMatchObject({ ok: false });
    expect(failing.report.findings).toContainEqual(
      expect.objectContaining({ code: 'UNKNOWN_TABLE', severity: 'blocker', table: 'audit_trail_2024' }),
    );
    const text = await runCli(['dry-run'], environment.env(env));
    expect(text.stdout).toMatch(
      /❌ the plan covers the live schema: table audit_trail_2024 is not in the migration plan/,
    );

    const excluded = await dryRun(env, ['--exclude-table', 'audit_trail_2024']);
    expect(excluded.result.code).toBe(0);
    expect(excluded.report.plan.excluded).toContainEqual(
      expect.objectContaining({ source: 'audit_trail_2024', by: 'operator' }),
    );
  });

  it('fails on an extra column, naming table and column', async () => {
    const { result, report } = await dryRun(
      await drifted('extracolumn', 'ALTER TABLE clients ADD COLUMN code_naf varchar(10)'),
    );
    expect(result.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ code: 'UNKNOWN_COLUMN', table: 'clients', column: 'code_naf' }),
    );
  });

  it('fails on a changed column type, naming it', async () => {
    const { result, report } = await dryRun(
      await drifted('typechange', 'ALTER TABLE commandes ALTER COLUMN montant_ht TYPE numeric(14,4)'),
    );
    expect(result.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({ code: 'INCOMPATIBLE_TYPE', table: 'commandes', column: 'montant_ht' }),
    );
  });

  it('fails on an enum value the target does not know', async () => {
    const { result, report } = await dryRun(
      await drifted(
        'enumvalue',
        "ALTER TYPE access_level ADD VALUE 'OWNER'; COMMIT; UPDATE permissions SET level = 'OWNER' WHERE action = 'export'",
      ),
    );
    expect(result.code).toBe(1);
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        code: 'UNKNOWN_ENUM_VALUE',
        table: 'permissions',
        column: 'level',
        sample: ['OWNER'],
      }),
    );
  });

  it('exits 2 on a database name that is not a safe identifier, before connecting', async () => {
    const result = await runCli(['dry-run'], environment.env({ DB_NAME: 'erp"; drop database x; --' }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DB_NAME');
  });

  it('exits 1 with ❌ source reachable when the server is unreachable', async () => {
    const { result, report } = await dryRun({
      DB_HOST: '127.0.0.1',
      DB_PORT: String(await freePort()),
      DB_CONNECTION_TIMEOUT: '2000',
    });
    expect(result.code).toBe(1);
    expect(report.checks.find((check) => check.id === 'source')).toMatchObject({ ok: false });
  });

  it('fails when a target database exists that the tool did not create and it holds tables', async () => {
    await environment.query('postgres', `CREATE DATABASE "${environment.names.shared}"`);
    await environment.query(environment.names.shared, 'CREATE TABLE someone_elses (id int)');
    try {
      const { result, report } = await dryRun();
      expect(result.code).toBe(1);
      expect(report.checks.find((check) => check.id === 'targets')?.detail).toContain(
        environment.names.shared,
      );
    } finally {
      await environment.query('postgres', `DROP DATABASE "${environment.names.shared}"`);
    }
  });

  it('plans to adopt an empty target database created beforehand (e.g. by a DBA)', async () => {
    await environment.query('postgres', `CREATE DATABASE "${environment.names.shared}"`);
    try {
      const { result, report } = await dryRun();
      expect(result.code).toBe(0);
      expect(report.plan.databases).toContainEqual(
        expect.objectContaining({ name: environment.names.shared, action: 'adopt' }),
      );
    } finally {
      await environment.query('postgres', `DROP DATABASE "${environment.names.shared}"`);
    }
  });

  it('fails when row-level security would hide rows from the migrating role, or it cannot read a table', async () => {
    const name = await environment.createMonolith({ name: `${environment.prefix}_rls` });
    const role = `${environment.prefix}_reader`;
    // Same password as the test server's role: the embedded server checks passwords.
    await environment.query(
      'postgres',
      `CREATE ROLE "${role}" LOGIN CREATEDB PASSWORD '${testServer().password.replace(/'/g, "''")}'`,
    );
    try {
      await environment.query(name, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"`);
      await environment.query(name, 'ALTER TABLE clients ENABLE ROW LEVEL SECURITY');
      await environment.query(name, "CREATE POLICY only_paris ON clients FOR SELECT USING (ville = 'Paris')");
      await environment.query(name, `REVOKE SELECT ON devis FROM "${role}"`);
      const { result, report } = await dryRun({ DB_NAME: name, DB_USERNAME: role });
      expect(result.code).toBe(1);
      expect(report.checks.find((check) => check.id === 'read-access')).toMatchObject({ ok: false });
      expect(report.findings).toContainEqual(
        expect.objectContaining({ code: 'ROW_LEVEL_SECURITY', table: 'clients' }),
      );
      expect(report.findings).toContainEqual(
        expect.objectContaining({ code: 'MISSING_PRIVILEGE', table: 'devis' }),
      );
    } finally {
      await environment.query(name, `DROP OWNED BY "${role}"`).catch(() => undefined);
      await environment.query('postgres', `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await environment.query('postgres', `DROP ROLE IF EXISTS "${role}"`);
    }
  });

  it('fails when pg_dump cannot be found', async () => {
    const { result, report } = await dryRun({ PG_BIN_DIR: '/nonexistent/bin' });
    expect(result.code).toBe(1);
    expect(report.checks.find((check) => check.id === 'pg_dump')).toMatchObject({ ok: false });
  });
});
