import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CleanReport, CleanRestoreReport } from '../../src/scripts/migration/clean-test-data';
import { parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import { databaseContent, TableContent } from '../../../../test/harness/independent-checksums';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type CleanDocument = CleanReport & { exitCode: number };
type RestoreDocument = CleanRestoreReport & { exitCode: number };
type ErrorDocument = { exitCode: number; error: { code: string; message: string } };

/**
 * A restore must put an archive's rows back exactly once, and only when the clean that wrote it
 * committed. Tables without a primary key are the hard case: no key conflict can tell a copy from
 * the original, so what PostgreSQL knows about the two transactions has to decide.
 */
describe('db:clean --restore puts rows back once, and only rows that were deleted', () => {
  const environment = TestEnvironment.create('cleanrestore');
  const monolith = environment.names.monolith;
  const archives = join(environment.backupDir, 'clean');
  const rulesFile = join(environment.root, 'rules.json');
  let original: Record<string, TableContent>;

  const keylessRows = async (): Promise<number> => {
    const [row] = await environment.query<{ count: string }>(
      monolith,
      'SELECT count(*) AS count FROM user_settings_backup',
    );
    return Number(row.count);
  };

  const cleanKeyless = async (): Promise<CleanDocument> => {
    const result = await runCli(
      ['clean', '--execute', '--rules-file', rulesFile, '--rule', 'old-backup-settings', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(0);
    const report = parseJson<CleanDocument>(result);
    expect(report.archive?.deletedRows).toBe(original.user_settings_backup.rows);
    expect(await keylessRows()).toBe(0);
    return report;
  };

  const restore = (name: string, extra: string[] = []) =>
    runCli(['clean', '--restore', name, '--json', ...extra], environment.env());

  /** Runs `work` with a plpgsql trigger on user_settings_backup, dropped afterwards. */
  const withTrigger = async (definition: string, body: string, work: () => Promise<void>) => {
    await environment.query(
      monolith,
      `CREATE FUNCTION restore_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$;
       CREATE ${definition.replace('%s', 'restore_fault')} EXECUTE FUNCTION restore_fault()`,
    );
    try {
      await work();
    } finally {
      await environment.query(
        monolith,
        'DROP TRIGGER restore_fault ON user_settings_backup; DROP FUNCTION restore_fault()',
      );
    }
  };

  /** Until no backend of `application` is left (a killed client's backend finishes its statement first). */
  const backendsGone = async (application: string): Promise<void> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const rows = await environment.query(
        'postgres',
        'SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND datname = $2',
        [application, monolith],
      );
      if (rows.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${application} still connected`);
  };

  beforeAll(async () => {
    await environment.createMonolith();
    original = await databaseContent(environment, monolith);
    expect(original.user_settings_backup.rows).toBeGreaterThan(0);
    writeFileSync(
      rulesFile,
      JSON.stringify({
        rules: [
          {
            name: 'old-backup-settings',
            description: 'the settings copy nobody reads (a table without primary key)',
            table: 'user_settings_backup',
            predicate: 'true',
            parameters: [],
          },
        ],
      }),
    );
  });
  afterAll(() => environment.cleanup());

  it('restores a table without primary key once; a second restore is refused and changes nothing', async () => {
    const cleaned = await cleanKeyless();
    const first = await restore(cleaned.archive!.name);
    expect(first.code).toBe(0);
    expect(parseJson<RestoreDocument>(first).insertedRows).toBe(original.user_settings_backup.rows);
    expect(await databaseContent(environment, monolith)).toEqual(original);

    const second = await restore(cleaned.archive!.name);
    expect(second.code).toBe(1);
    const error = parseJson<ErrorDocument>(second).error;
    expect(error.code).toBe('ALREADY_RESTORED');
    expect(error.message).toContain(`archive ${cleaned.archive!.name} was already restored at `);
    expect(await keylessRows()).toBe(original.user_settings_backup.rows);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('refuses the archive of a clean killed with kill -9 before COMMIT: its rows were never deleted', async () => {
    const before = readdirSync(archives);
    await withTrigger(
      'TRIGGER %s BEFORE DELETE ON user_settings_backup FOR EACH STATEMENT',
      'PERFORM pg_sleep(4)',
      async () => {
        const run = new WatchedProcess(
          spawnCli(
            ['clean', '--execute', '--rules-file', rulesFile, '--rule', 'old-backup-settings'],
            environment.env(),
          ),
        );
        await run.waitFor(/✔ archive:/);
        await new Promise((resolve) => setTimeout(resolve, 500));
        run.child.kill('SIGKILL');
        expect((await run.done).signal).toBe('SIGKILL');
      },
    );
    const [left] = readdirSync(archives).filter((name) => !before.includes(name));
    expect(left).toMatch(/^\d{4}-.*Z$/);
    expect(await keylessRows()).toBe(original.user_settings_backup.rows);

    const result = await restore(left);
    expect(result.code).toBe(1);
    const error = parseJson<ErrorDocument>(result).error;
    expect(error.code).toBe('CLEAN_NOT_COMMITTED');
    expect(error.message).toContain('never committed');
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('an archive without the transaction record (older tool): keys still decide, a keyless table needs --accept-duplicate-risk', async () => {
    const forget = (name: string) => {
      const path = join(archives, name, 'manifest.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      delete manifest.transaction;
      writeFileSync(path, JSON.stringify(manifest, null, 2));
    };
    const keyless = await cleanKeyless();
    forget(keyless.archive!.name);
    const refused = await restore(keyless.archive!.name);
    expect(refused.code).toBe(1);
    const error = parseJson<ErrorDocument>(refused).error;
    expect(error.code).toBe('RESTORE_UNVERIFIABLE');
    expect(error.message).toContain('public.user_settings_backup');
    expect(await keylessRows()).toBe(0);
    expect((await restore(keyless.archive!.name, ['--accept-duplicate-risk'])).code).toBe(0);
    expect(await databaseContent(environment, monolith)).toEqual(original);

    const keyed = parseJson<CleanDocument>(
      await runCli(['clean', '--execute', '--rule', 'test-tables', '--json'], environment.env()),
    );
    forget(keyed.archive!.name);
    expect((await restore(keyed.archive!.name)).code).toBe(0);
    expect(await databaseContent(environment, monolith)).toEqual(original);
    expect(parseJson<ErrorDocument>(await restore(keyed.archive!.name)).error.code).toBe('ALREADY_RESTORED');
  });

  it('a restore whose COMMIT failed does not count; one that committed after its process was killed does', async () => {
    const failed = await cleanKeyless();
    await withTrigger(
      'CONSTRAINT TRIGGER %s AFTER INSERT ON user_settings_backup DEFERRABLE INITIALLY DEFERRED FOR EACH ROW',
      `RAISE EXCEPTION 'refused at commit'`,
      async () => {
        const result = await restore(failed.archive!.name);
        expect(result.code).toBe(1);
        expect(parseJson<ErrorDocument>(result).error.message).toContain('refused at commit');
      },
    );
    expect(await keylessRows()).toBe(0);
    expect((await restore(failed.archive!.name)).code).toBe(0);
    expect(await databaseContent(environment, monolith)).toEqual(original);

    const killed = await cleanKeyless();
    await withTrigger(
      'CONSTRAINT TRIGGER %s AFTER INSERT ON user_settings_backup DEFERRABLE INITIALLY DEFERRED FOR EACH ROW',
      'PERFORM pg_sleep(0.05)',
      async () => {
        const run = new WatchedProcess(
          spawnCli(['clean', '--restore', killed.archive!.name, '--verbose'], environment.env()),
        );
        await run.waitFor(/record the restore done/);
        await new Promise((resolve) => setTimeout(resolve, 500));
        run.child.kill('SIGKILL');
        await run.done;
        await backendsGone('topsteel-clean-restore');
      },
    );
    // The server finished the COMMIT it had received: the rows are back, and a rerun knows it.
    expect(await databaseContent(environment, monolith)).toEqual(original);
    const again = await restore(killed.archive!.name);
    expect(again.code).toBe(1);
    expect(parseJson<ErrorDocument>(again).error.code).toBe('ALREADY_RESTORED');
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });
});
