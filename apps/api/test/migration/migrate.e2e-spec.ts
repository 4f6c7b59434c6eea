import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupManifest } from '../../src/scripts/migration/backup/backup-manifest';
import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { MigrateReport } from '../../src/scripts/migration/migration-service';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { databaseContent, legacyColumns, tableContent } from '../../../../test/harness/independent-checksums';
import { stepWindows } from '../../../../test/harness/step-windows';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type MigrateDocument = MigrateReport & { exitCode: number };

describe('db:migrate (the split)', () => {
  const environment = TestEnvironment.create('migrate');
  const databaseOf = {
    auth: environment.names.auth,
    shared: environment.names.shared,
    tenant: environment.names.defaultTenant,
  };
  let monolithBefore: Awaited<ReturnType<typeof databaseContent>>;
  let first: MigrateDocument;

  beforeAll(async () => {
    await environment.createMonolith();
    monolithBefore = await databaseContent(environment, environment.names.monolith);
    const result = await runNpmScript('db:migrate', ['--json'], environment.env());
    expect(result.code).toBe(0);
    first = parseJson<MigrateDocument>(result);
  }, 120000);
  afterAll(() => environment.cleanup());

  it('splits on the first run and says so', () => {
    expect(first.mode).toBe('split');
    if (first.mode !== 'split') return;
    expect(first.split.verification.ok).toBe(true);
    expect(first.split.databases.map((database) => database.created)).toEqual([true, true, true]);
    expect(first.split.backup.reused).toBe(false);
  });

  it('links the users and hashes the copied tables while the foreign keys are validated', () => {
    const steps = stepWindows(environment.logDir, 'migrate');
    const keys = steps.get('restore foreign keys');
    const link = steps.get('link users to the default société');
    const verify = steps.get('verify');
    if (!keys || !link || !verify)
      throw new Error(`steps missing from the log: ${[...steps.keys()].join(', ')}`);
    // Started once the last table was in, before the keys were done (the test server has connections to spare).
    expect(link.start).toBeLessThan(keys.end);
    expect(verify.start).toBeGreaterThanOrEqual(link.end);
  });

  it('copies every planned table with the same rows and content over the legacy columns (checked independently)', async () => {
    for (const table of DEFAULT_PLAN.tables) {
      const columns = await legacyColumns(environment, environment.names.monolith, table.source);
      const source = await tableContent(environment, environment.names.monolith, table.source, columns);
      const target = await tableContent(environment, databaseOf[table.database], table.target, columns);
      expect([table.source, target]).toEqual([table.source, source]);
    }
  });

  it('fills the added columns from the plan: societe_id and expires_at', async () => {
    const [societe] = await environment.query<{ id: string }>(
      environment.names.auth,
      "SELECT id FROM societes WHERE code = 'TOPSTEEL'",
    );
    const [commandes] = await environment.query<{ other: string }>(
      environment.names.defaultTenant,
      'SELECT count(*) AS other FROM commandes WHERE societe_id <> $1',
      [societe.id],
    );
    expect(Number(commandes.other)).toBe(0);
    const [sessions] = await environment.query<{ missing: string }>(
      environment.names.auth,
      'SELECT count(*) AS missing FROM user_sessions WHERE expires_at IS NULL',
    );
    expect(Number(sessions.missing)).toBe(0);
  });

  it('passes the migration guide verification queries', async () => {
    const count = async (database: string, sql: string) =>
      Number((await environment.query<{ count: string }>(database, sql))[0].count);
    expect(await count(environment.names.auth, 'SELECT count(*) FROM users')).toBe(monolithBefore.users.rows);
    expect(await count(environment.names.auth, 'SELECT count(*) FROM societes')).toBe(1);
    expect(await count(environment.names.shared, 'SELECT count(*) FROM shared_materials')).toBe(
      monolithBefore.materiaux.rows,
    );
    expect(await count(environment.names.defaultTenant, 'SELECT count(*) FROM clients')).toBe(
      monolithBefore.clients.rows,
    );
    expect(await count(environment.names.defaultTenant, 'SELECT count(*) FROM commandes')).toBe(
      monolithBefore.commandes.rows,
    );
    expect(
      await count(
        environment.names.auth,
        'SELECT count(*) FROM societe_users su WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = su.user_id)',
      ),
    ).toBe(0);
    expect(
      await count(
        environment.names.auth,
        'SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM societe_users su WHERE su.user_id = u.id)',
      ),
    ).toBe(0);
    expect(await count(environment.names.auth, 'SELECT count(*) FROM sites WHERE is_default')).toBe(1);
  });

  it('keeps foreign keys inside each database, and closes tenant databases to PUBLIC', async () => {
    const [keys] = await environment.query<{ count: string }>(
      environment.names.defaultTenant,
      "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated",
    );
    expect(Number(keys.count)).toBeGreaterThan(15);
    const [open] = await environment.query<{ open: boolean }>(
      'postgres',
      "SELECT has_database_privilege('public', $1, 'CONNECT') AS open",
      [environment.names.defaultTenant],
    );
    expect(open.open).toBe(false);
  });

  it('never writes to the monolith', async () => {
    expect(await databaseContent(environment, environment.names.monolith)).toEqual(monolithBefore);
  });

  it('exits 0 with nothing to do on the next run and changes no row', async () => {
    const targetsBefore = await Promise.all(
      Object.values(databaseOf).map((database) => databaseContent(environment, database)),
    );
    const result = await runNpmScript('db:migrate', ['--json'], environment.env());
    expect(result.code).toBe(0);
    const report = parseJson<MigrateDocument>(result);
    expect(report.mode).toBe('schema-migrations');
    if (report.mode === 'schema-migrations')
      expect(report.migrations).toMatchObject({ nothingToDo: true, migrated: 0, failed: 0, upToDate: 3 });
    expect(
      await Promise.all(Object.values(databaseOf).map((database) => databaseContent(environment, database))),
    ).toEqual(targetsBefore);
  });

  it('db:verify passes, then exits 1 naming a table whose row was altered after the copy', async () => {
    const ok = await runNpmScript('db:verify', ['--json'], environment.env());
    expect(ok.code).toBe(0);
    await environment.query(
      environment.names.defaultTenant,
      "UPDATE facturation SET notes = 'modifié après la migration' WHERE numero = 'FAC-000000007'",
    );
    const failing = await runNpmScript('db:verify', [], environment.env());
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/❌ row counts and checksums equal.*tenant\.facturation/);
    await environment.query(
      environment.names.defaultTenant,
      "UPDATE facturation SET notes = NULL WHERE numero = 'FAC-000000007'",
    );
  });

  it('records every run in logs/migration.log', async () => {
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(`${environment.logDir}/migration.log`, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { command: string; event: string; outcome?: string });
    expect(
      lines.filter((line) => line.command === 'migrate' && line.event === 'end').map((line) => line.outcome),
    ).toEqual(['ok', 'ok']);
  });
});

describe('db:migrate and db:verify on damaged states after a split', () => {
  const environment = TestEnvironment.create('migratedmg');
  const targets = () => [environment.names.auth, environment.names.shared, environment.names.defaultTenant];

  beforeAll(async () => {
    await environment.createMonolith();
    expect((await runCli(['migrate'], environment.env())).code).toBe(0);
  }, 120000);
  afterAll(() => environment.cleanup());

  it('db:verify exits 1 naming a foreign key left NOT VALID, and 0 once it is validated', async () => {
    const [key] = await environment.query<{ table: string; name: string; definition: string }>(
      environment.names.defaultTenant,
      `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' ORDER BY 1, 2 LIMIT 1`,
    );
    await environment.query(
      environment.names.defaultTenant,
      `ALTER TABLE "${key.table}" DROP CONSTRAINT "${key.name}", ADD CONSTRAINT "${key.name}" ${key.definition} NOT VALID`,
    );
    const failing = await runCli(['verify'], environment.env());
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain(`${key.table}.${key.name} is not validated`);
    await environment.query(
      environment.names.defaultTenant,
      `ALTER TABLE "${key.table}" VALIDATE CONSTRAINT "${key.name}"`,
    );
    expect((await runCli(['verify'], environment.env())).code).toBe(0);
  });

  it('reads and upgrades a journal written before the columns added since its first release', async () => {
    await environment.query(
      environment.names.auth,
      'ALTER TABLE migration_journal.split DROP COLUMN excluded_tables; ALTER TABLE migration_journal.split_tables DROP COLUMN checksum_columns',
    );
    expect((await runCli(['verify'], environment.env())).code).toBe(0);
    expect((await runCli(['migrate'], environment.env())).code).toBe(0);
    // The first command that writes the journal brings it up to date.
    expect((await runCli(['societe:create', 'JOURNAL', 'Journal'], environment.env())).code).toBe(0);
    const columns = await environment.query(
      environment.names.auth,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'migration_journal' AND column_name IN ('excluded_tables', 'checksum_columns') ORDER BY 1",
    );
    expect(columns).toEqual([{ column_name: 'checksum_columns' }, { column_name: 'excluded_tables' }]);
  });

  it('refuses to migrate while a rollback is in progress', async () => {
    const { mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    mkdirSync(`${environment.backupDir}/rollback`, { recursive: true });
    writeFileSync(`${environment.backupDir}/rollback/in-progress.json`, '{}');
    try {
      const result = await runCli(['migrate', '--json'], environment.env());
      expect(result.code).toBe(1);
      expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('IN_PROGRESS');
    } finally {
      rmSync(`${environment.backupDir}/rollback/in-progress.json`);
    }
  });

  it('refuses to touch split databases whose journal is gone, changing nothing', async () => {
    await environment.query(environment.names.auth, 'DROP SCHEMA migration_journal CASCADE');
    const before = await Promise.all(targets().map((database) => databaseContent(environment, database)));
    const result = await runCli(['migrate'], environment.env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(environment.names.auth);
    expect(await Promise.all(targets().map((database) => databaseContent(environment, database)))).toEqual(
      before,
    );
    const dryRun = await runCli(['dry-run', '--json'], environment.env());
    expect(dryRun.code).toBe(1);
  });
});

describe('db:migrate pre-flight', () => {
  const environment = TestEnvironment.create('migratepre');

  afterAll(() => environment.cleanup());

  it('refuses to start on a blocker and writes nothing', async () => {
    const monolith = await environment.createMonolith();
    await environment.query(monolith, 'ALTER TABLE clients ADD COLUMN code_naf varchar(10)');
    const result = await runCli(['migrate'], environment.env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('clients.code_naf');
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
  });

  it('--dry-run changes nothing', async () => {
    await environment.query(environment.names.monolith, 'ALTER TABLE clients DROP COLUMN code_naf');
    const result = await runCli(['migrate', '--dry-run', '--json'], environment.env());
    expect(result.code).toBe(0);
    expect(parseJson<MigrateDocument>(result).mode).toBe('preflight');
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
  });
});

describe('db:migrate on a monolith that departs from the plan', () => {
  const environment = TestEnvironment.create('migrateodd');

  beforeEach(async () => {
    await environment.dropDatabases();
    await environment.createMonolith();
  });
  afterAll(() => environment.cleanup());

  it('records a table left behind with --exclude-table, so db:verify does not expect it either', async () => {
    await environment.query(
      environment.names.monolith,
      "CREATE TABLE extra_notes (id int PRIMARY KEY, note text); INSERT INTO extra_notes VALUES (1, 'kept aside')",
    );
    expect((await runCli(['migrate'], environment.env())).code).toBe(1);
    expect((await runCli(['migrate', '--exclude-table', 'extra_notes'], environment.env())).code).toBe(0);
    const verify = await runCli(['verify'], environment.env());
    expect(verify.stdout).toContain('left behind knowingly with --exclude-table: extra_notes');
    expect(verify.code).toBe(0);
  });

  it('refuses before writing anything to exclude a table whose rows others reference in the same database', async () => {
    const result = await runCli(['migrate', '--exclude-table', 'clients'], environment.env());
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(
      /--exclude-table clients: \d+ row\(s\) of commandes reference it/,
    );
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
  });

  it('refuses before writing anything a session whose derived expires_at would overflow', async () => {
    await environment.query(
      environment.names.monolith,
      `UPDATE user_sessions SET "lastActivity" = '294276-12-31 12:00', "logoutTime" = NULL, status = 'active', "isActive" = true
       WHERE id = (SELECT id FROM user_sessions ORDER BY id LIMIT 1)`,
    );
    const dryRun = await runCli(['dry-run'], environment.env());
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toContain('auth.user_sessions.expires_at cannot be computed for every row');
    expect((await runCli(['migrate'], environment.env())).code).toBe(1);
    expect(await environment.databaseExists(environment.names.auth)).toBe(false);
  });

  it('names the rows behind a foreign key the monolith let someone bypass, and resumes once they are fixed', async () => {
    await environment.query(
      environment.names.monolith,
      `SET session_replication_role = replica;
       INSERT INTO user_sessions ("userId", "sessionId", "accessToken", "loginTime", "lastActivity")
       VALUES ('00000000-0000-4000-8000-00000000dead', 'orphan-session', 'token', now(), now())`,
    );
    const failed = await runCli(['migrate', '--json'], environment.env());
    expect(failed.code).toBe(1);
    const { error } = parseJson<{ error: { code: string; message: string } }>(failed);
    expect(error.code).toBe('FOREIGN_KEY_VIOLATED');
    expect(error.message).toContain(`in ${environment.names.auth}: 1 row(s) of user_sessions`);
    expect(error.message).toContain('00000000-0000-4000-8000-00000000dead');

    await environment.query(
      environment.names.monolith,
      'DELETE FROM user_sessions WHERE "sessionId" = \'orphan-session\'',
    );
    expect((await runCli(['migrate'], environment.env())).code).toBe(0);
    expect((await runCli(['verify'], environment.env())).code).toBe(0);
  });

  it('copies a SQL_ASCII monolith holding bytes that are not UTF-8, byte for byte', async () => {
    await environment.dropDatabases();
    await environment.createMonolith({ encoding: 'SQL_ASCII' });
    await environment.query(
      environment.names.monolith,
      "UPDATE clients SET notes = E'caf\\xe9 \\xff\\xfe\\xc3( cr\\xe8me' WHERE id = (SELECT id FROM clients ORDER BY id LIMIT 1)",
    );
    const fingerprint =
      "SELECT md5(string_agg(md5(coalesce(notes, '-')), ',' ORDER BY id)) AS digest FROM clients";
    const [before] = await environment.query<{ digest: string }>(environment.names.monolith, fingerprint);
    const result = await runCli(['migrate'], environment.env());
    expect(result.stderr).not.toMatch(/invalid byte sequence/);
    expect(result.code).toBe(0);
    const [after] = await environment.query<{ digest: string }>(environment.names.defaultTenant, fingerprint);
    expect(after.digest).toBe(before.digest);
    expect((await runCli(['verify'], environment.env())).code).toBe(0);
  });
});

describe('db:migrate reuses a backup only if the monolith still has its structure', () => {
  async function backupThenMigrate(label: string, change?: string) {
    const environment = TestEnvironment.create(label);
    await environment.createMonolith();
    const backup = await runNpmScript('db:backup', ['--json'], environment.env());
    expect(backup.code).toBe(0);
    if (change) await environment.query(environment.names.monolith, change);
    const result = await runNpmScript('db:migrate', ['--json'], environment.env());
    expect(result.code).toBe(0);
    const report = parseJson<MigrateDocument>(result);
    return { environment, backupPath: parseJson<{ path: string }>(backup).path, report };
  }

  it('reuses the backup of an unchanged monolith', async () => {
    const { environment, backupPath, report } = await backupThenMigrate('migreuse');
    try {
      expect(report.mode).toBe('split');
      if (report.mode === 'split')
        expect(report.split.backup).toMatchObject({ path: backupPath, reused: true });
    } finally {
      await environment.cleanup();
    }
  });

  it('takes a new backup after an UPDATE that kept every count and the structure', async () => {
    const { environment, backupPath, report } = await backupThenMigrate(
      'migupdated',
      "UPDATE users SET nom = nom || ' (changed)' WHERE id = (SELECT id FROM users ORDER BY email LIMIT 1)",
    );
    try {
      expect(report.mode).toBe('split');
      if (report.mode !== 'split') return;
      expect(report.split.backup.reused).toBe(false);
      expect(report.split.backup.path).not.toBe(backupPath);
      expect(report.split.verification.ok).toBe(true);
    } finally {
      await environment.cleanup();
    }
  });

  it('takes a new backup after an ALTER that changed the structure and no row', async () => {
    const { environment, backupPath, report } = await backupThenMigrate(
      'migaltered',
      "ALTER TABLE users ALTER role SET DEFAULT 'ADMIN'",
    );
    try {
      expect(report.mode).toBe('split');
      if (report.mode !== 'split') return;
      expect(report.split.backup.reused).toBe(false);
      expect(report.split.backup.path).not.toBe(backupPath);
      const manifest = JSON.parse(
        readFileSync(join(report.split.backup.path, 'manifest.json'), 'utf8'),
      ) as BackupManifest;
      expect(manifest.databases[0].schema?.objects['column public.users.role'].definition).toContain(
        "DEFAULT 'ADMIN'",
      );
    } finally {
      await environment.cleanup();
    }
  });
});
