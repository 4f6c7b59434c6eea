import { collectRun, parseJson, runNpmScript, spawnCli } from '../../../../test/harness/cli';
import { LogicalCluster, startLogicalCluster } from '../../../../test/harness/logical-cluster';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type ErrorDocument = { error: { code: string; message: string } };

const MANUAL = [
  'migrate',
  '--online',
  '--cutover',
  'manual',
  '--json',
  '--jobs',
  '2',
  '--max-pause-ms',
  '120000',
];

async function waitFor(check: () => Promise<boolean>, timeoutMs = 240000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function waitForFollowing(environment: TestEnvironment): Promise<void> {
  await waitFor(async () => {
    const result = await runNpmScript('db:status', ['--json'], environment.env());
    return (
      result.code === 0 &&
      parseJson<{ online: { phase: string } | null }>(result).online?.phase === 'following'
    );
  });
}

async function splitStatus(environment: TestEnvironment): Promise<string | null> {
  const rows = await environment.query<{ status: string }>(
    environment.names.auth,
    "SELECT status FROM migration_journal.split WHERE to_regclass('migration_journal.split') IS NOT NULL",
  );
  return rows[0]?.status ?? null;
}

/**
 * What the cutover's verification must catch. In the pause: a wrong value the follower applied to
 * a row that changed (checked by key). After it: a difference in a row the follower never touched,
 * found by the full comparison against the targets as they were at the cutover.
 */
describe('online split: verification in and after the cutover pause (logical cluster)', () => {
  let cluster: LogicalCluster;
  const environments: TestEnvironment[] = [];
  const environment = async (label: string) => {
    const created = TestEnvironment.create(label, cluster);
    environments.push(created);
    await created.createMonolith();
    return created;
  };

  beforeAll(async () => {
    cluster = await startLogicalCluster();
  }, 60000);
  afterAll(async () => {
    for (const created of environments) await created.cleanup();
    await cluster?.stop();
  }, 120000);

  it('refuses the cutover when the follower applied a wrong value to a changed row; nothing recorded complete', async () => {
    const env = await environment('onlinecorrupt');
    // The test-only hook makes the follower write a wrong users.nom in the first change it applies there.
    const child = spawnCli(MANUAL, { ...env.env(), TOPSTEEL_FAULT_CORRUPT_APPLIED: 'users.nom' });
    const done = collectRun(child);
    await waitForFollowing(env);
    await env.query(
      env.names.monolith,
      "UPDATE users SET nom = nom || ' (renamed)' WHERE id = (SELECT id FROM users ORDER BY id LIMIT 1)",
    );
    await env.query(
      env.names.monolith,
      "UPDATE clients SET ville = 'Rennes' WHERE id IN (SELECT id FROM clients ORDER BY id LIMIT 3)",
    );
    await waitFor(async () => {
      const rows = await env.query(env.names.auth, "SELECT 1 FROM users WHERE nom LIKE '% (corrupted)'");
      return rows.length === 1;
    });
    const cutover = await runNpmScript('db:cutover', ['--json'], env.env());
    expect(cutover.code).toBe(1);
    const result = await done;
    expect(result.code).toBe(1);
    const document = parseJson<ErrorDocument>(result);
    expect(document.error.code).toBe('CUTOVER_FAILED');
    // Caught by key (the one changed row), not by a whole-table scan; the clients rows that changed were right.
    expect(document.error.message).toMatch(
      /users \(1 changed key\(s\)\): monolith 1 rows, auth\.users 1 rows \(content differs\)/,
    );
    expect(document.error.message).not.toMatch(/clients/);
    expect(await splitStatus(env)).not.toBe('complete');
    // The locks were let go and the monolith was never made read-only.
    await env.query(
      env.names.monolith,
      'UPDATE users SET nom = nom WHERE id = (SELECT id FROM users ORDER BY id LIMIT 1)',
    );
  }, 900000);

  it('after the pause, a difference in a row the follower never touched fails the split with exit 1', async () => {
    const env = await environment('onlinefrozen');
    const child = spawnCli(MANUAL, env.env());
    const done = collectRun(child);
    await waitForFollowing(env);
    // The copy was verified; then a target row of a table that receives no change is altered.
    await env.query(
      env.names.defaultTenant,
      "UPDATE clients SET ville = 'Altered' WHERE id = (SELECT id FROM clients ORDER BY id LIMIT 1)",
    );
    await env.query(
      env.names.monolith,
      "UPDATE users SET nom = nom || ' (renamed)' WHERE id = (SELECT id FROM users ORDER BY id LIMIT 1)",
    );
    await waitFor(async () => {
      const rows = await env.query(env.names.auth, "SELECT 1 FROM users WHERE nom LIKE '% (renamed)'");
      return rows.length === 1;
    });
    await runNpmScript('db:cutover', ['--json'], env.env());
    const result = await done;
    expect(result.code).toBe(1);
    const document = parseJson<ErrorDocument>(result);
    expect(document.error.code).toBe('VERIFICATION_FAILED');
    expect(document.error.message).toMatch(/after the cutover/);
    expect(document.error.message).toMatch(
      /clients: monolith \d+ rows, tenant\.clients \d+ rows \(content differs\)/,
    );
    expect(document.error.message).toMatch(/not switch the application/);
    expect(document.error.message).toMatch(/db:rollback/);
    expect(await splitStatus(env)).toBe('failed');
  }, 900000);
});
