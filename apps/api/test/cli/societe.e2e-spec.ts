import { MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { parseJson, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from '../http/split-fixture';

type CreateDocument = {
  exitCode: number;
  runId: string;
  created: boolean;
  databaseCreated: boolean;
  societe: { code: string; nom: string; database: string };
};

describe('db:societe:create and db:societe:list', () => {
  const environment = TestEnvironment.create('societecli');
  let fixture: SplitFixture;

  beforeAll(async () => {
    fixture = await SplitFixture.create(environment);
  });
  afterAll(async () => {
    await fixture?.close();
    await environment.cleanup();
  });

  it('provisions a société, records its database in the journal, and says so', async () => {
    const result = await runNpmScript(
      'db:societe:create',
      ['acme', 'Acme', 'Industries', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(0);
    const document = parseJson<CreateDocument>(result);
    expect(document).toMatchObject({
      exitCode: 0,
      created: true,
      databaseCreated: true,
      societe: { code: 'ACME', nom: 'Acme Industries', database: `${environment.prefix}_acme` },
    });
    expect(await environment.databaseExists(`${environment.prefix}_acme`)).toBe(true);
    const journal = await environment.query(
      environment.names.auth,
      'SELECT name, created_by_run FROM migration_journal.databases',
    );
    expect(journal).toEqual([{ name: `${environment.prefix}_acme`, created_by_run: document.runId }]);
  });

  it('exits 0 with "already exists" when run again', async () => {
    const result = await runNpmScript('db:societe:create', ['ACME', 'Acme'], environment.env());
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Société ACME (Acme Industries) already exists');
    expect(result.stdout).toContain('nothing to do');
  });

  it('exits 2 on an unsafe code, before touching anything', async () => {
    const result = await runNpmScript(
      'db:societe:create',
      ['acme-corp;', 'Bad', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(2);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('INVALID_SOCIETE_CODE');
    expect(result.stderr).toContain('not a safe identifier');
    expect((await runNpmScript('db:societe:create', ['acme'], environment.env())).code).toBe(2);
  });

  it('exits 3 naming the holder while another run holds the migration lock', async () => {
    const result = await fixture.context
      .get(MigrationLockService)
      .withMigrationLock('migrate', { timeoutMs: 1000 }, () =>
        runNpmScript('db:societe:create', ['other', 'Other', '--lock-timeout', '1s'], environment.env()),
      );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/another run holds the migration lock: "migrate"/);
    expect(await environment.databaseExists(`${environment.prefix}_other`)).toBe(false);
  });

  it('lists the sociétés', async () => {
    const json = await runNpmScript('db:societe:list', ['--json'], environment.env());
    expect(json.code).toBe(0);
    const document = parseJson<{ societes: { code: string; database: string }[] }>(json);
    expect(document.societes.map((societe) => [societe.code, societe.database])).toEqual([
      ['ACME', `${environment.prefix}_acme`],
    ]);
    const text = await runNpmScript('db:societe:list', [], environment.env());
    expect(text.stdout).toMatch(/^code\s+name\s+status/);
    expect(text.stdout).toContain('Acme Industries');
  });
});
