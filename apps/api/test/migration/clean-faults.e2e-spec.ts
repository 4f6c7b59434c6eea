import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { CleanReport } from '../../src/scripts/migration/clean-test-data';
import { parseJson, runCli, runNpmScript, spawnCli } from '../../../../test/harness/cli';
import { databaseContent, TableContent } from '../../../../test/harness/independent-checksums';
import { createTestContext } from '../../../../test/harness/nest-context';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class LockModule {}

type CleanDocument = CleanReport & { exitCode: number };
type ErrorDocument = { exitCode: number; error: { code: string; message: string } };

describe('db:clean:execute refuses, fails and is interrupted without losing anything', () => {
  const environment = TestEnvironment.create('cleanfault');
  const monolith = environment.names.monolith;
  const archives = join(environment.backupDir, 'clean');
  let original: Record<string, TableContent>;

  /** Archive folders left behind, complete or partial. */
  const leftovers = (): string[] => (existsSync(archives) ? readdirSync(archives) : []);

  const withTrigger = async (body: string, timing: 'BEFORE' | 'AFTER', work: () => Promise<void>) => {
    await environment.query(
      monolith,
      `CREATE FUNCTION clean_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$;
       CREATE TRIGGER clean_fault ${timing} DELETE ON test_orders FOR EACH STATEMENT EXECUTE FUNCTION clean_fault()`,
    );
    try {
      await work();
    } finally {
      await environment.query(
        monolith,
        'DROP TRIGGER clean_fault ON test_orders; DROP FUNCTION clean_fault()',
      );
    }
  };

  beforeAll(async () => {
    await environment.createMonolith();
    original = await databaseContent(environment, monolith);
  });
  afterAll(() => environment.cleanup());

  it('with --no-auto-backup, refuses without a usable backup (none, or too old) and uses a matching one', async () => {
    const none = await runNpmScript('db:clean:execute', ['--no-auto-backup', '--json'], environment.env());
    expect(none.code).toBe(1);
    expect(parseJson<ErrorDocument>(none).error).toMatchObject({ code: 'BACKUP_REQUIRED' });
    expect(parseJson<ErrorDocument>(none).error.message).toContain('no verified backup matches');
    expect(existsSync(join(environment.backupDir, 'pre-migration'))).toBe(false);

    expect((await runNpmScript('db:backup', ['--monolith-only'], environment.env())).code).toBe(0);
    const stale = await runCli(
      ['clean', '--execute', '--no-auto-backup', '--max-backup-age', '1ms', '--json'],
      environment.env(),
    );
    expect(stale.code).toBe(1);
    expect(parseJson<ErrorDocument>(stale).error.message).toContain('older than --max-backup-age');
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('a rule whose predicate fails stops everything: exit 1, nothing deleted, no archive (rules file)', async () => {
    const rulesFile = join(environment.root, 'rules.json');
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'old-traces',
            description: 'audit trail older than a number of days',
            table: 'tracabilite',
            predicate: 'date_action < localtimestamp - make_interval(days => $1)',
            parameters: [30],
          },
          {
            name: 'broken',
            description: 'divides by zero on every row',
            table: 'public.test_orders',
            predicate: '"totalAmount" / 0 > $1',
            parameters: [1],
          },
        ],
      }),
    );
    const custom = await runCli(
      ['clean', '--rules-file', rulesFile, '--rule', 'old-traces', '--json'],
      environment.env(),
    );
    expect(custom.code).toBe(0);
    const [traces] = await environment.query<{ count: string }>(
      monolith,
      `SELECT count(*) AS count FROM tracabilite WHERE date_action < (now() AT TIME ZONE 'UTC') - interval '30 days'`,
    );
    expect(parseJson<CleanDocument>(custom).totals.deletedRows).toBe(Number(traces.count));

    const result = await runNpmScript(
      'db:clean:execute',
      ['--rules-file', rulesFile, '--rule', 'test-tables', '--rule', 'broken', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(1);
    const error = parseJson<ErrorDocument>(result).error;
    expect(error.code).toBe('RULE_FAILED');
    expect(error.message).toMatch(/broken.*division by zero/);
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('refuses a predicate that reaches beyond its parentheses or writes: exit 2 naming the rule, nothing deleted', async () => {
    await environment.query(
      monolith,
      `CREATE TABLE clean_probe_log (n integer);
       CREATE FUNCTION clean_probe_write() RETURNS boolean LANGUAGE sql AS $$ INSERT INTO clean_probe_log VALUES (1) RETURNING true $$`,
    );
    try {
      const refusals: [string, string, RegExp][] = [
        ['line-comment', 'id IS NULL --', /INVALID_RULES_FILE/],
        ['block-comment', 'id IS NULL /* */', /INVALID_RULES_FILE/],
        ['break-out', 'id IS NULL) OR (true', /INVALID_RULES_FILE/],
        ['writes', 'clean_probe_write()', /RULE_WRITES/],
      ];
      for (const [name, predicate, code] of refusals) {
        const rulesFile = join(environment.root, `${name}.json`);
        writeFileSync(
          rulesFile,
          JSON.stringify({ rules: [{ name, description: 'hostile', table: 'test_orders', predicate }] }),
        );
        const result = await runNpmScript(
          'db:clean:execute',
          ['--rules-file', rulesFile, '--rule', name, '--json'],
          environment.env(),
        );
        const error = parseJson<ErrorDocument>(result).error;
        expect([name, result.code, error.code]).toEqual([name, 2, expect.stringMatching(code)]);
        expect(error.message).toContain(`rule ${name === 'writes' ? name : `"${name}"`}`);
      }
      expect(await environment.query(monolith, 'SELECT * FROM clean_probe_log')).toEqual([]);
    } finally {
      await environment.query(monolith, 'DROP FUNCTION clean_probe_write(); DROP TABLE clean_probe_log');
    }
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('a failure in the middle of the delete rolls back and removes the archive already written', async () => {
    await withTrigger(`RAISE EXCEPTION 'test_orders are protected'`, 'BEFORE', async () => {
      const result = await runCli(['clean', '--execute', '--json'], environment.env());
      expect(result.code).toBe(1);
      expect(parseJson<ErrorDocument>(result).error).toMatchObject({ code: 'DELETE_FAILED' });
      expect(parseJson<ErrorDocument>(result).error.message).toContain('test_orders are protected');
      expect(result.stderr).toMatch(/✔ archive: \d+ tables/);
    });
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('a COMMIT refused by a deferred trigger rolls back and removes the archive', async () => {
    await environment.query(
      monolith,
      `CREATE FUNCTION clean_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
       CREATE CONSTRAINT TRIGGER clean_refuse AFTER DELETE ON test_orders DEFERRABLE INITIALLY DEFERRED
         FOR EACH ROW EXECUTE FUNCTION clean_refuse()`,
    );
    try {
      const result = await runCli(['clean', '--execute', '--json'], environment.env());
      expect(result.code).toBe(1);
      const { error } = parseJson<ErrorDocument>(result);
      expect(error).toMatchObject({ code: 'DELETE_FAILED' });
      expect(error.message).toContain('refused at commit');
    } finally {
      await environment.query(
        monolith,
        'DROP TRIGGER clean_refuse ON test_orders; DROP FUNCTION clean_refuse()',
      );
    }
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('rolls back when PostgreSQL deleted other rows than the archived ones (counts checked before COMMIT)', async () => {
    await withTrigger(
      `DELETE FROM system_settings WHERE key = (SELECT min(key) FROM system_settings)`,
      'AFTER',
      async () => {
        const result = await runCli(
          ['clean', '--execute', '--rule', 'test-tables', '--json'],
          environment.env(),
        );
        expect(result.code).toBe(1);
        const error = parseJson<ErrorDocument>(result).error;
        expect(error.code).toBe('VERIFICATION_FAILED');
        expect(error.message).toContain('public.system_settings: 1 row(s) deleted, 0 archived');
      },
    );
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('on SIGTERM during the delete: cancels, rolls back, removes the archive and exits 143', async () => {
    await withTrigger('PERFORM pg_sleep(60)', 'BEFORE', async () => {
      const run = new WatchedProcess(
        spawnCli(['clean', '--execute', '--rule', 'test-tables'], environment.env()),
      );
      await run.waitFor(/✔ archive:/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(143);
      expect(result.stderr).toContain('SIGTERM received');
    });
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('exits 3 when another run holds the migration lock', async () => {
    const context = await createTestContext(LockModule, environment);
    try {
      const result = await context
        .get(MigrationLockService)
        .withMigrationLock('migrate', { timeoutMs: 1000 }, () =>
          runCli(['clean', '--execute', '--lock-timeout', '1s', '--json'], environment.env()),
        );
      expect(result.code).toBe(3);
      expect(parseJson<ErrorDocument>(result).error.message).toContain(
        'another run holds the migration lock: "migrate"',
      );
    } finally {
      await context.close();
    }
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('gives up with exit 1 when a session keeps a table locked longer than --lock-timeout', async () => {
    const writer = await environment.client(monolith);
    try {
      await writer.query('BEGIN');
      await writer.query('LOCK TABLE test_orders IN ROW EXCLUSIVE MODE');
      const result = await runCli(
        ['clean', '--execute', '--rule', 'test-tables', '--lock-timeout', '1s', '--json'],
        environment.env(),
      );
      expect(result.code).toBe(1);
      expect(parseJson<ErrorDocument>(result).error.code).toBe('TABLES_BUSY');
    } finally {
      await writer.query('ROLLBACK');
      await environment.release(writer);
    }
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('refuses, before any backup or archive, when a key without ON DELETE action references selected rows', async () => {
    await environment.query(
      monolith,
      `CREATE TABLE order_notes (id integer PRIMARY KEY, order_id uuid NOT NULL REFERENCES test_orders (id));
       INSERT INTO order_notes SELECT 1, min(id::text)::uuid FROM test_orders`,
    );
    try {
      const preview = await runCli(['clean', '--rule', 'test-tables', '--json'], environment.env());
      expect(preview.code).toBe(1);
      expect(parseJson<CleanDocument>(preview).totals.blocked).toEqual([
        expect.objectContaining({ table: 'public.order_notes', references: 'public.test_orders', rows: 1 }),
      ]);
      const backups = readdirSync(join(environment.backupDir, 'pre-migration'));
      const result = await runCli(
        ['clean', '--execute', '--rule', 'test-tables', '--json'],
        environment.env(),
      );
      expect(result.code).toBe(1);
      expect(parseJson<ErrorDocument>(result).error.code).toBe('BLOCKED');
      expect(readdirSync(join(environment.backupDir, 'pre-migration'))).toEqual(backups);
    } finally {
      await environment.query(monolith, 'DROP TABLE order_notes');
    }
    expect(leftovers()).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('with a matching recent backup and --no-auto-backup, uses it and cleans', async () => {
    // The fault tests above ran with a trigger on test_orders: a structure no backup had, so they
    // took backups of their own. None is taken now: the first one matches rows and structure again.
    const backups = readdirSync(join(environment.backupDir, 'pre-migration'));
    const result = await runCli(
      ['clean', '--execute', '--no-auto-backup', '--rule', 'test-tables', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(0);
    const report = parseJson<CleanDocument>(result);
    expect(report.backup).toMatchObject({ policy: 'matching' });
    expect(report.totals.deletedRows).toBe(
      ['test_categories', 'test_products', 'test_orders', 'test_order_items'].reduce(
        (sum, table) => sum + original[table].rows,
        0,
      ),
    );
    expect(readdirSync(join(environment.backupDir, 'pre-migration'))).toEqual(backups);
  });
});
