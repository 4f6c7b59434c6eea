import { collectRun, parseJson, runCli, spawnCli } from '../../../../test/harness/cli';
import {
  LogicalCluster,
  restartLogicalCluster,
  startLogicalCluster,
} from '../../../../test/harness/logical-cluster';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import {
  monolithContents,
  newDatabaseContents,
  newDatabases,
  onMonolith,
  reverseConverged,
  writeOnNewDatabases,
} from './reverse-sync-fixture';

type LinkStatus = {
  database: string;
  subscription: string;
  state: string;
  lagBytes: number | null;
  applyErrors: number | null;
  conflict: { description: string; reproduces: boolean } | null;
};
type StatusDocument = { online: { reverseSync: LinkStatus[] | null } | null };
type Check = { id: string; ok: boolean; detail: string };
type ValidateDocument = { validation: { ok: boolean; checks: Check[]; reverseSync: LinkStatus[] | null } };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs = 120000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(250);
  }
}

/**
 * Issue 18's faults of the reverse sync: the server restarted, a subscription disabled, a conflict
 * in the monolith. One online split, then each case on top of the previous one.
 */
describe('reverse sync stopped, restarted or in conflict: status tells, rollback refuses, then loses nothing', () => {
  let cluster: LogicalCluster;
  let environment: TestEnvironment;

  async function linkOf(database: string): Promise<LinkStatus> {
    const status = await runCli(['status', '--json'], environment.env());
    expect(status.code).toBe(0);
    const link = parseJson<StatusDocument>(status).online?.reverseSync?.find(
      (candidate) => candidate.database === database,
    );
    if (!link) throw new Error(`db:status shows no reverse sync for ${database}:\n${status.stdout}`);
    return link;
  }

  /** Polls db:status until the link matches, or fails with what it last showed. */
  async function waitForLink(
    database: string,
    matches: (link: LinkStatus) => boolean,
    timeoutMs = 120000,
  ): Promise<LinkStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const link = await linkOf(database);
      if (matches(link)) return link;
      if (Date.now() > deadline)
        throw new Error(`db:status never showed the expected link: ${JSON.stringify(link)}`);
      await sleep(1000);
    }
  }

  async function refusedRollback(): Promise<{ validate: ValidateDocument; check: Check; rollback: string }> {
    const validate = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(validate.code).toBe(1);
    const document = parseJson<ValidateDocument>(validate);
    const check = document.validation.checks.find((candidate) => candidate.id === 'reverse-sync') as Check;
    expect(check.ok).toBe(false);
    const rollback = await runCli(['rollback', '--yes', '--json'], environment.env());
    expect(rollback.code).toBe(1);
    const error = parseJson<{ error: { code: string; message: string } }>(rollback).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    // Nothing was changed: the new databases are there, the sync is still in place.
    for (const database of Object.values(newDatabases(environment)))
      expect(await environment.databaseExists(database)).toBe(true);
    const subscriptions = await environment.query(
      environment.names.monolith,
      'SELECT subname FROM pg_subscription',
    );
    expect(subscriptions).toHaveLength(3);
    return { validate: document, check, rollback: error.message };
  }

  beforeAll(async () => {
    cluster = await startLogicalCluster();
    environment = TestEnvironment.create('revfault', cluster);
    await environment.createMonolith();
    const split = await runCli(['migrate', '--online', '--json', '--jobs', '2'], environment.env());
    if (split.code !== 0)
      throw new Error(`exit ${split.code}\n${split.stdout}\n${split.stderr.slice(-3000)}`);
  }, 600000);
  afterAll(async () => {
    await environment?.cleanup();
    await cluster?.stop();
  }, 120000);

  it('keeps bringing writes back across a server restart', async () => {
    await writeOnNewDatabases(environment, 0);
    await restartLogicalCluster(cluster);
    await writeOnNewDatabases(environment, 1);
    expect(await reverseConverged(environment, 120000)).toEqual([]);
    for (const database of Object.values(newDatabases(environment)))
      await waitForLink(database, (link) => link.state === 'running');
    const [row] = await environment.query<{ n: string }>(
      environment.names.monolith,
      "SELECT count(*)::text AS n FROM clients WHERE numero_client IN ('REV-0', 'REV-1')",
    );
    expect(row.n).toBe('2');
  }, 300000);

  it('a disabled subscription: db:status says disabled with its lag, the rollback refuses naming it, then drains once it is enabled', async () => {
    const tenant = environment.names.defaultTenant;
    await onMonolith(environment, ['ALTER SUBSCRIPTION topsteel_rev_tenant DISABLE']);
    await writeOnNewDatabases(environment, 2);
    const link = await waitForLink(
      tenant,
      (candidate) => candidate.state === 'disabled' && (candidate.lagBytes ?? 0) > 0,
    );
    expect(link).toMatchObject({ subscription: 'topsteel_rev_tenant', applyErrors: 0, conflict: null });
    const refused = await refusedRollback();
    expect(refused.check.detail).toContain('topsteel_rev_tenant');
    expect(refused.check.detail).toContain('ALTER SUBSCRIPTION topsteel_rev_tenant ENABLE');
    expect(refused.rollback).toContain('topsteel_rev_tenant');
    const [missing] = await environment.query<{ n: string }>(
      environment.names.monolith,
      "SELECT count(*)::text AS n FROM clients WHERE numero_client = 'REV-2'",
    );
    expect(missing.n).toBe('0');

    await onMonolith(environment, ['ALTER SUBSCRIPTION topsteel_rev_tenant ENABLE']);
    expect(await reverseConverged(environment, 120000)).toEqual([]);
    await waitForLink(tenant, (candidate) => candidate.state === 'running');
  }, 300000);

  it('a conflict that appears while the rollback drains ends the wait at once, naming it, and changes nothing', async () => {
    const tenant = environment.names.defaultTenant;
    // A superuser's transaction in the monolith holds a unique key; the tenant's row with the same key
    // then keeps the apply worker waiting (running, so the validation passes) until that commits.
    const holder = await environment.client(environment.names.monolith);
    await holder.query('SET default_transaction_read_only = off');
    await holder.query('BEGIN');
    await holder.query(
      "INSERT INTO clients (nom, numero_client, email) VALUES ('Held in the monolith', 'CLASH-2', 'clash2-mono@example.test')",
    );
    await environment.query(
      tenant,
      `INSERT INTO clients (societe_id, nom, numero_client, email, created_at, updated_at)
       SELECT societe_id, 'Tenant during the drain', 'CLASH-2', 'clash2@tenant.test', now(), now() FROM clients LIMIT 1`,
    );
    await waitFor(async () => {
      const waiting = await environment.query(
        environment.names.monolith,
        "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'logical replication worker' AND wait_event_type = 'Lock'",
      );
      return waiting.length > 0;
    });
    const rollback = collectRun(spawnCli(['rollback', '--yes', '--json'], environment.env()));
    // The rollback blocked writes on the new databases: it is draining now.
    await waitFor(async () => {
      const settings = await environment.query(
        'postgres',
        `SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
         WHERE d.datname = $1 AND 'default_transaction_read_only=on' = ANY (s.setconfig)`,
        [tenant],
      );
      return settings.length > 0;
    });
    await holder.query('COMMIT');
    await environment.release(holder);
    const result = await rollback;
    expect(result.code).toBe(1);
    const error = parseJson<{ error: { code: string; message: string } }>(result).error;
    expect(error.code).toBe('REVERSE_SYNC_BEHIND');
    expect(error.message).toContain('topsteel_rev_tenant');
    expect(error.message).toContain('(numero_client)=(CLASH-2) already exists');
    // Writes go through on the tenant again; nothing was dropped.
    await environment.query(tenant, "UPDATE clients SET ville = 'Rennes' WHERE numero_client = 'CLASH-2'");
    for (const database of Object.values(newDatabases(environment)))
      expect(await environment.databaseExists(database)).toBe(true);
    // No unfinished rollback is left on record (db:migrate would refuse to run).
    const after = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(parseJson<{ validation: { inProgress: boolean } }>(after).validation.inProgress).toBe(false);

    await onMonolith(environment, [
      "DELETE FROM clients WHERE numero_client = 'CLASH-2'",
      'ALTER SUBSCRIPTION topsteel_rev_tenant ENABLE',
    ]);
    expect(await reverseConverged(environment, 120000)).toEqual([]);
  }, 300000);

  it('a conflict stops the sync loudly: status and validation name the row, the rollback refuses; resolved, it exits 0 and the monolith holds every row', async () => {
    const tenant = environment.names.defaultTenant;
    await writeOnNewDatabases(environment, 3);
    // Someone wrote into the read-only monolith as a superuser; the same business key then comes on the tenant.
    await onMonolith(environment, [
      "INSERT INTO clients (nom, numero_client, email) VALUES ('Written in the monolith', 'CLASH-1', 'clash-mono@example.test')",
    ]);
    for (const [numero, nom] of [
      ['CLASH-1', 'Written on the tenant'],
      ['AFTER-1', 'Queued behind the conflict'],
    ])
      await environment.query(
        tenant,
        `INSERT INTO clients (societe_id, nom, numero_client, email, created_at, updated_at)
         SELECT societe_id, $1, $2::text, lower($2::text) || '@tenant.test', now(), now() FROM clients LIMIT 1`,
        [nom, numero],
      );
    const link = await waitForLink(
      tenant,
      (candidate) => candidate.state === 'disabled' && candidate.conflict !== null,
    );
    expect(link.applyErrors).toBeGreaterThanOrEqual(1);
    expect(link.conflict?.reproduces).toBe(true);
    expect(link.conflict?.description).toMatch(
      /clients: duplicate key value violates unique constraint "UQ_clients_numero_client"/,
    );
    expect(link.conflict?.description).toContain('(numero_client)=(CLASH-1) already exists');
    const human = await runCli(['status'], environment.env());
    expect(human.stdout + human.stderr).toContain('CLASH-1');

    const refused = await refusedRollback();
    expect(refused.check.detail).toContain('topsteel_rev_tenant');
    expect(refused.check.detail).toContain('(numero_client)=(CLASH-1) already exists');
    expect(refused.rollback).toContain('CLASH-1');
    // AUTH and SHARED kept flowing: only the tenant's subscription stopped.
    for (const database of [environment.names.auth, environment.names.shared])
      await waitForLink(database, (candidate) => candidate.state === 'running');

    // What the operator does: keep a copy of the monolith's row, delete it there, enable the subscription.
    await onMonolith(environment, ["DELETE FROM clients WHERE numero_client = 'CLASH-1'"]);
    const resolved = await linkOf(tenant);
    expect(resolved.state).toBe('disabled');
    expect(resolved.conflict?.reproduces).toBe(false);
    expect(resolved.conflict?.description).toMatch(/now applies cleanly/);
    await onMonolith(environment, ['ALTER SUBSCRIPTION topsteel_rev_tenant ENABLE']);
    expect(await reverseConverged(environment, 120000)).toEqual([]);
    const expected = await newDatabaseContents(environment);
    const result = await runCli(['rollback', '--yes', '--json'], environment.env());
    if (result.code !== 0)
      throw new Error(`exit ${result.code}\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    expect(await monolithContents(environment)).toEqual(expected);
    const rows = await environment.query<{ nom: string }>(
      environment.names.monolith,
      "SELECT nom FROM clients WHERE numero_client IN ('AFTER-1', 'CLASH-1', 'CLASH-2', 'REV-2', 'REV-3') ORDER BY numero_client",
    );
    expect(rows.map((row) => row.nom)).toEqual([
      'Queued behind the conflict',
      'Written on the tenant',
      'Tenant during the drain',
      'Rev 2',
      'Rev 3',
    ]);
    expect(
      await environment.query(environment.names.monolith, 'SELECT subname FROM pg_subscription'),
    ).toEqual([]);
  }, 600000);
});
