import { SEEDED_PROBLEMS } from '@topsteel/legacy-fixture';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { AuditReport } from '../../src/scripts/migration/audit-current-data';
import { parseJson, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

describe('db:audit', () => {
  const environment = TestEnvironment.create('audit');
  let report: AuditReport;

  beforeAll(async () => {
    await environment.createMonolith();
    const result = await runNpmScript('db:audit', ['--json'], environment.env());
    expect(result.code).toBe(0);
    report = parseJson<AuditReport>(result);
  });
  afterAll(() => environment.cleanup());

  const finding = (code: string, table?: string) =>
    report.findings.find((candidate) => candidate.code === code && (!table || candidate.table === table));

  it('runs every check against the real schema (none skipped, none failed)', () => {
    expect(report.findings.filter((candidate) => candidate.code === 'CHECK_SKIPPED')).toEqual([]);
    expect(report.summary.blockers).toBe(0);
  });

  it('describes every table: rows, soft-deleted rows, size and destination', async () => {
    expect(report.tables).toHaveLength(66);
    const [clients] = await environment.query<{ rows: string; deleted: string }>(
      environment.names.monolith,
      'SELECT count(*) AS rows, count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted FROM clients',
    );
    expect(report.tables.find((table) => table.name === 'clients')).toMatchObject({
      rows: Number(clients.rows),
      softDeleted: Number(clients.deleted),
      destination: 'tenant.clients',
    });
    expect(report.tables.find((table) => table.name === 'migrations')?.destination).toMatch(/^excluded: /);
  });

  it('finds the seeded problems with the right counts', () => {
    expect(finding('EMAIL_CASE_COLLISION')?.count).toBe(2 * SEEDED_PROBLEMS.emailCaseCollisions);
    expect(finding('USER_WITHOUT_PASSWORD')?.count).toBe(SEEDED_PROBLEMS.usersWithEmptyPassword);
    expect(finding('USER_WITHOUT_EMAIL')?.count).toBe(SEEDED_PROBLEMS.usersWithEmptyEmail);
    expect(finding('DEMO_ACCOUNT_PRESENT', 'users')?.count).toBe(SEEDED_PROBLEMS.demoUsers);
    expect(finding('DEMO_ACCOUNT_PRESENT', 'clients')?.count).toBe(SEEDED_PROBLEMS.demoClients);
    expect(finding('DEMO_ACCOUNT_PRESENT', 'users')?.message).toContain('db:clean --rule demo-users');
    expect(finding('ORPHAN_REFERENCE', 'documents')?.count).toBe(SEEDED_PROBLEMS.orphanDocuments);
    expect(finding('ORPHAN_REFERENCE', 'query_builder_columns')?.count).toBe(
      SEEDED_PROBLEMS.orphanQueryBuilderColumns,
    );
    expect(finding('CROSS_DATABASE_REFERENCE_DANGLING', 'tracabilite')?.count).toBe(
      SEEDED_PROBLEMS.danglingTracabiliteUsers,
    );
    expect(finding('DUPLICATE_ROWS', 'typeorm_metadata')?.count).toBe(
      SEEDED_PROBLEMS.duplicateTypeormMetadataRows,
    );
    expect(finding('DUPLICATE_ROWS', 'user_settings_backup')?.count).toBe(
      SEEDED_PROBLEMS.duplicateUserSettingsBackupRows,
    );
    expect(finding('TEST_DATA_PRESENT', 'test_orders')?.count).toBe(30);
    expect(finding('SESSION_EXPIRED')?.count).toBeGreaterThan(0);
    expect(
      report.findings
        .filter((candidate) => candidate.code === 'NO_PRIMARY_KEY')
        .map((candidate) => candidate.table)
        .sort(),
    ).toEqual(['typeorm_metadata', 'user_settings_backup']);
  });

  it('recommends from what it found, with the numbers', () => {
    const text = report.recommendations.join('\n');
    expect(text).toContain(
      `${2 * SEEDED_PROBLEMS.emailCaseCollisions} user(s) have e-mail addresses that collide`,
    );
    expect(text).toContain('db:clean');
    expect(text).toMatch(/tracabilite\.utilisateur_id/);
    expect(text).not.toContain('blocker');
  });

  it('writes the JSON report under LOG_DIR, readable by its owner only', () => {
    expect(report.reportPath.startsWith(environment.logDir)).toBe(true);
    expect(existsSync(report.reportPath)).toBe(true);
    expect(statSync(report.reportPath).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(report.reportPath, 'utf8')) as AuditReport).summary).toEqual(
      report.summary,
    );
  });

  it('recommends resolving blockers when the schema drifted', async () => {
    const drifted = await environment.createMonolith({ name: `${environment.prefix}_drift` });
    await environment.query(drifted, 'CREATE TABLE extra_stuff (id int)');
    const result = await runNpmScript('db:audit', ['--json'], environment.env({ DB_NAME: drifted }));
    const driftReport = parseJson<AuditReport>(result);
    expect(driftReport.coverage.unknownTables).toEqual(['extra_stuff']);
    expect(driftReport.recommendations[0]).toMatch(/Resolve the 1 blocker/);
  });
});

describe('db:audit on a table with many matching rows', () => {
  const environment = TestEnvironment.create('audit_many');
  beforeAll(() => environment.createMonolith({ scale: 1 }));
  afterAll(() => environment.cleanup());

  it('reads only the sample: no sort of every matching row, even with a tiny work_mem', async () => {
    const monolith = environment.names.monolith;
    const [before] = await environment.query<{ count: string }>(
      monolith,
      'SELECT count(*) AS count FROM mfa_session WHERE "expiresAt" < localtimestamp',
    );
    await environment.query(
      monolith,
      `INSERT INTO mfa_session ("userId", "sessionToken", "mfaType", "expiresAt")
       SELECT (SELECT min(id::text)::uuid FROM users), 'token-' || n, 'totp', localtimestamp - interval '1 day'
       FROM generate_series(1, 200000) AS n`,
    );
    // Sorting 200,000 keys in 64 kB spills about 10 MB to temporary files, more than temp_file_limit
    // lets through (the other checks' small sorts fit): only a bounded (top-N) sort gets through.
    for (const setting of ["work_mem = '64kB'", "temp_file_limit = '1MB'"])
      await environment.query('postgres', `ALTER DATABASE "${monolith}" SET ${setting}`);
    try {
      const result = await runNpmScript('db:audit', ['--json'], environment.env());
      expect(result.stderr).not.toContain('temp_file_limit');
      expect(result.code).toBe(0);
      const report = parseJson<AuditReport>(result);
      const unanswered = report.findings.filter((candidate) =>
        /^CHECK_(SKIPPED|FAILED)$/.test(candidate.code),
      );
      expect(unanswered).toEqual([]);
      const expired = report.findings.find((candidate) => candidate.code === 'MFA_SESSION_EXPIRED');
      expect(expired?.count).toBe(Number(before.count) + 200000);
      const [smallest] = await environment.query<{ ids: string[] }>(
        monolith,
        `SELECT array(SELECT id::text FROM mfa_session WHERE "expiresAt" < localtimestamp ORDER BY 1 LIMIT 5) AS ids`,
      );
      expect(expired?.sample).toEqual(smallest.ids);
    } finally {
      await environment.query('postgres', `ALTER DATABASE "${monolith}" RESET ALL`);
    }
  });
});
