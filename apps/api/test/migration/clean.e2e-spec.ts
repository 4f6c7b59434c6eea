import { SEEDED_PROBLEMS } from '@topsteel/legacy-fixture';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CleanReport, CleanRestoreReport } from '../../src/scripts/migration/clean-test-data';
import { PlanSummary } from '../../src/scripts/migration/clean/plan-summary';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { databaseContent, TableContent } from '../../../../test/harness/independent-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type CleanDocument = CleanReport & { exitCode: number };
type ErrorDocument = { exitCode: number; error: { code: string; message: string } };

const DEMO_EMAILS = ['demo.commercial@example.org', 'demo@example.com', 'qa@test.local'];

/** Rows per public table (`users`, not `public.users`) as the independent checksum reads them. */
const rowsOf = (content: Record<string, TableContent>): Record<string, number> =>
  Object.fromEntries(Object.entries(content).map(([table, value]) => [table, value.rows]));

const deletedPerTable = (summary: PlanSummary): Record<string, number> =>
  Object.fromEntries(summary.deleted.map((entry) => [entry.table.replace(/^public\./, ''), entry.rows]));

describe('db:clean and db:clean:execute on the generated monolith', () => {
  const environment = TestEnvironment.create('clean');
  const monolith = environment.names.monolith;
  let original: Record<string, TableContent>;
  let dryRun: CleanDocument;
  let executed: CleanDocument;
  let productionWithoutOperator: number;

  const countProductionWithoutOperator = async (): Promise<number> =>
    (
      await environment.query<{ count: number }>(
        monolith,
        'SELECT count(*)::int AS count FROM production WHERE operateur_id IS NULL',
      )
    )[0].count;

  beforeAll(async () => {
    await environment.createMonolith();
    original = await databaseContent(environment, monolith);
    productionWithoutOperator = await countProductionWithoutOperator();
  });
  afterAll(() => environment.cleanup());

  it('dry run (default): one JSON document with every rule, cascades and samples, and nothing written', async () => {
    const result = await runNpmScript('db:clean', ['--json'], environment.env());
    expect(result.code).toBe(0);
    dryRun = parseJson<CleanDocument>(result);
    expect(dryRun).toMatchObject({ command: 'clean', mode: 'dry-run', target: 'monolith', exitCode: 0 });
    expect(dryRun.rules.map((rule) => rule.name)).toEqual([
      'test-tables',
      'expired-sessions',
      'expired-mfa-sessions',
      'old-read-notifications',
      'demo-users',
      'demo-clients',
    ]);
    const rule = (name: string) => dryRun.rules.find((candidate) => candidate.name === name)!;
    expect(deletedPerTable(rule('test-tables').summary)).toEqual({
      test_categories: original.test_categories.rows,
      test_products: original.test_products.rows,
      test_orders: original.test_orders.rows,
      test_order_items: original.test_order_items.rows,
    });
    // Three notifications read long ago go, with their read receipts; the re-read and unread ones stay.
    expect(deletedPerTable(rule('old-read-notifications').summary)).toEqual({
      notifications: SEEDED_PROBLEMS.oldReadNotifications,
      notification_reads: SEEDED_PROBLEMS.oldReadNotifications,
    });
    const demoUsers = rule('demo-users').summary;
    expect(demoUsers.deleted.find((entry) => entry.table === 'public.users')).toMatchObject({
      rows: 3,
      ruleRows: 3,
    });
    // Cascaded rows are reported per table, through multi-column keys too.
    for (const table of [
      'user_sessions',
      'user_settings',
      'user_menu_preferences',
      'user_mfa',
      'mfa_session',
      'datatable_hierarchical_preferences',
      'datatable_hierarchy_order',
    ])
      expect(deletedPerTable(demoUsers)[table]).toBeGreaterThan(0);
    expect(demoUsers.modified.find((entry) => entry.table === 'public.production')).toMatchObject({
      columns: ['operateur_id'],
    });
    expect(dryRun.totals.deleted.every((entry) => entry.samples.length > 0)).toBe(true);
    expect(dryRun.refusals).toEqual([]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
    expect(existsSync(join(environment.backupDir, 'clean'))).toBe(false);
  });

  it('selects demo accounts by whole domain only: never contest.fr nor a user named Test on a real domain', async () => {
    const selected = await environment.query<{ email: string }>(
      monolith,
      `SELECT email FROM users WHERE id::text = ANY($1) ORDER BY email`,
      [
        dryRun.rules
          .find((rule) => rule.name === 'demo-users')!
          .summary.deleted.find((entry) => entry.table === 'public.users')!.samples,
      ],
    );
    expect(selected.map((row) => row.email)).toEqual(DEMO_EMAILS);
    const clients = dryRun.rules.find((rule) => rule.name === 'demo-clients')!.summary.deleted;
    const clientEmails = await environment.query<{ email: string }>(
      monolith,
      `SELECT email FROM clients WHERE id::text = ANY($1) ORDER BY email`,
      [clients.find((entry) => entry.table === 'public.clients')!.samples],
    );
    expect(clientEmails.map((row) => row.email)).toEqual(['achats@test.local', 'client@example.org']);

    // "st.fr" is the end of "contest.fr" but not its domain.
    const result = await runCli(
      ['clean', '--rule', 'demo-users', '--rule', 'demo-clients', '--json'],
      environment.env({ CLEAN_TEST_EMAIL_DOMAINS: 'st.fr,topsteel.fr.test,test.local' }),
    );
    const narrowed = parseJson<CleanDocument>(result);
    expect(narrowed.totals.deleted.find((entry) => entry.table === 'public.users')?.rows).toBe(1);
    expect(narrowed.totals.deleted.find((entry) => entry.table === 'public.clients')?.rows).toBe(1);
  });

  it('exits 2 on an unknown rule, listing the valid ones', async () => {
    const result = await runCli(
      ['clean', '--rule', 'demo-users', '--rule', 'everything', '--json'],
      environment.env(),
    );
    expect(result.code).toBe(2);
    const document = parseJson<ErrorDocument>(result);
    expect(document.error.code).toBe('UNKNOWN_RULE');
    expect(document.error.message).toContain('everything');
    expect(document.error.message).toContain('test-tables, expired-sessions, expired-mfa-sessions');
  });

  it('execute takes a backup itself, archives every row (cascades included) and deletes exactly what the dry run showed', async () => {
    const result = await runNpmScript('db:clean:execute', ['--json'], environment.env());
    expect(result.code).toBe(0);
    executed = parseJson<CleanDocument>(result);
    expect(executed.mode).toBe('execute');
    expect(executed.backup).toMatchObject({ policy: 'taken' });
    expect(result.stderr).toContain('taking one now');
    expect(deletedPerTable(executed.totals)).toEqual(deletedPerTable(dryRun.totals));
    expect(executed.totals.modified).toEqual(dryRun.totals.modified);

    // Independently of the tool's own counts: what disappeared from each table.
    const after = rowsOf(await databaseContent(environment, monolith));
    const gone: Record<string, number> = {};
    for (const [table, rows] of Object.entries(rowsOf(original)))
      if (rows !== after[table]) gone[table] = rows - after[table];
    expect(gone).toEqual(deletedPerTable(dryRun.totals));

    const emails = await environment.query<{ email: string }>(monolith, 'SELECT email FROM users');
    for (const email of ['contact@contest.fr', 'alice.test@topsteel.fr'])
      expect(emails.map((row) => row.email)).toContain(email);
    expect(emails.filter((row) => DEMO_EMAILS.includes(row.email))).toEqual([]);
    const contest = await environment.query(
      monolith,
      `SELECT 1 FROM clients WHERE email = 'achats@contest.fr'`,
    );
    expect(contest).toHaveLength(1);
    // SET NULL happened to the production runs of the demo operator, and nowhere else.
    const production = executed.totals.modified.find((entry) => entry.table === 'public.production')!;
    const nulled = await environment.query(
      monolith,
      'SELECT 1 FROM production WHERE id::text = ANY($1) AND operateur_id IS NULL',
      [production.samples],
    );
    expect(nulled).toHaveLength(production.samples.length);
    // Counted independently: exactly as many operators emptied as the tool says it modified.
    expect((await countProductionWithoutOperator()) - productionWithoutOperator).toBe(production.rows);
    expect(production.rows).toBeGreaterThan(0);
  });

  it('writes the archive as 0600 CSV files in a 0700 folder with a manifest of counts and checksums', () => {
    const archive = executed.archive!;
    expect(statSync(archive.path).mode & 0o777).toBe(0o700);
    const manifest = JSON.parse(readFileSync(join(archive.path, 'manifest.json'), 'utf8')) as {
      tables: { table: string; action: string; rows: number; checksum: string; file: string }[];
      rows: { deleted: number; modified: number };
      backup: { name: string } | null;
    };
    expect(manifest.rows).toEqual({
      deleted: dryRun.totals.deletedRows,
      modified: dryRun.totals.modifiedRows,
    });
    expect(manifest.backup?.name).toBe((executed.backup as { name: string }).name);
    const deleted = Object.fromEntries(
      manifest.tables
        .filter((table) => table.action === 'deleted')
        .map((table) => [table.table.replace(/^public\./, ''), table.rows]),
    );
    expect(deleted).toEqual(deletedPerTable(dryRun.totals));
    for (const file of readdirSync(archive.path))
      expect(statSync(join(archive.path, file)).mode & 0o777).toBe(0o600);
    const users = manifest.tables.find((table) => table.table === 'public.users')!;
    const csv = readFileSync(join(archive.path, users.file), 'utf8');
    for (const email of DEMO_EMAILS) expect(csv).toContain(email);
    expect(readdirSync(join(environment.backupDir, 'clean')).filter((name) => name.startsWith('.'))).toEqual(
      [],
    );
  });

  it('a second execute has nothing to do and exits 0 without taking a backup', async () => {
    const backups = readdirSync(join(environment.backupDir, 'pre-migration'));
    const result = await runNpmScript('db:clean:execute', ['--json'], environment.env());
    expect(result.code).toBe(0);
    expect(parseJson<CleanDocument>(result)).toMatchObject({ nothingToDo: true, archive: null });
    expect(readdirSync(join(environment.backupDir, 'pre-migration'))).toEqual(backups);
  });

  it('--restore brings every row back, SET NULL references included, with identical content', async () => {
    const result = await runNpmScript(
      'db:clean',
      ['--restore', executed.archive!.name, '--json'],
      environment.env(),
    );
    expect(result.code).toBe(0);
    const restored = parseJson<CleanRestoreReport & { exitCode: number }>(result);
    expect(restored).toMatchObject({
      mode: 'restore',
      insertedRows: dryRun.totals.deletedRows,
      updatedRows: dryRun.totals.modifiedRows,
    });
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('refuses to restore an archive twice: it knows the first restore committed, nothing changes', async () => {
    const result = await runCli(['clean', '--restore', executed.archive!.name, '--json'], environment.env());
    expect(result.code).toBe(1);
    expect(parseJson<ErrorDocument>(result).error.code).toBe('ALREADY_RESTORED');
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('restores only the references SET NULL emptied: later edits elsewhere stay, a re-pointed row is a conflict', async () => {
    const run = parseJson<CleanDocument>(
      await runCli(['clean', '--execute', '--rule', 'demo-users', '--json'], environment.env()),
    );
    const [edited, repointed] = run.totals.modified.find(
      (entry) => entry.table === 'public.production',
    )!.samples;
    await environment.query(
      monolith,
      `UPDATE production SET notes = 'revu après le nettoyage' WHERE id = $1`,
      [edited],
    );
    await environment.query(
      monolith,
      `UPDATE production SET operateur_id = (SELECT id FROM users WHERE email = 'admin@topsteel.fr') WHERE id = $1`,
      [repointed],
    );
    const refused = await runCli(['clean', '--restore', run.archive!.name, '--json'], environment.env());
    expect(refused.code).toBe(1);
    const error = parseJson<ErrorDocument>(refused).error;
    expect(error.code).toBe('RESTORE_CONFLICT');
    expect(error.message).toContain(
      `public.production are gone or their operateur_id was set since (${repointed})`,
    );

    await environment.query(monolith, 'UPDATE production SET operateur_id = NULL WHERE id = $1', [repointed]);
    expect((await runCli(['clean', '--restore', run.archive!.name], environment.env())).code).toBe(0);
    const [row] = await environment.query<{ notes: string; operateur: string }>(
      monolith,
      'SELECT p.notes, u.email AS operateur FROM production p JOIN users u ON u.id = p.operateur_id WHERE p.id = $1',
      [edited],
    );
    expect(row).toEqual({ notes: 'revu après le nettoyage', operateur: 'demo@example.com' });
    await environment.query(monolith, 'UPDATE production SET notes = NULL WHERE id = $1', [edited]);
    expect(await databaseContent(environment, monolith)).toEqual(original);
  });

  it('exits 2 on an archive name that does not exist (or is a path)', async () => {
    for (const name of ['2020-01-01T00-00-00-000Z', '../pre-migration']) {
      const result = await runCli(['clean', '--restore', name, '--json'], environment.env());
      expect(result.code).toBe(2);
      expect(parseJson<ErrorDocument>(result).error.code).toBe('ARCHIVE_NOT_FOUND');
    }
  });

  it('--target auth before any split exits 1 and says why', async () => {
    const result = await runCli(['clean', '--target', 'auth', '--json'], environment.env());
    expect(result.code).toBe(1);
    expect(parseJson<ErrorDocument>(result).error.code).toBe('TARGET_NOT_READY');
  });
});
