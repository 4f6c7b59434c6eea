import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { legacyColumns, tableContent } from '../../../../test/harness/independent-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The new databases the reverse sync reads from, by kind. */
export const newDatabases = (environment: TestEnvironment) => ({
  auth: environment.names.auth,
  shared: environment.names.shared,
  tenant: environment.names.defaultTenant,
});

/** Every planned table, monolith against its new database, over the legacy columns, by independent checksums. */
export async function reverseDifferences(environment: TestEnvironment, shadowed = false): Promise<string[]> {
  const found: string[] = [];
  for (const table of DEFAULT_PLAN.tables) {
    const columns = await legacyColumns(environment, environment.names.monolith, table.source);
    // Until the rollback, a renamed table flows into its same-named shadow in the monolith.
    const name = shadowed ? table.target : table.source;
    const monolith = await tableContent(environment, environment.names.monolith, name, columns);
    const target = await tableContent(
      environment,
      newDatabases(environment)[table.database],
      table.target,
      columns,
    );
    if (monolith.rows !== target.rows || monolith.md5 !== target.md5)
      found.push(`${table.source}: monolith ${JSON.stringify(monolith)}, new ${JSON.stringify(target)}`);
  }
  return found;
}

/** Polls until the monolith (shadows included) holds what the new databases hold, or the deadline. */
export async function reverseConverged(environment: TestEnvironment, timeoutMs = 60000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let found = await reverseDifferences(environment, true);
  while (found.length > 0 && Date.now() < deadline) {
    await sleep(500);
    found = await reverseDifferences(environment, true);
  }
  return found;
}

/** Each planned table's content in its new database, to compare the monolith with after a rollback. */
export async function newDatabaseContents(environment: TestEnvironment): Promise<Record<string, unknown>> {
  const expected: Record<string, unknown> = {};
  for (const table of DEFAULT_PLAN.tables) {
    const columns = await legacyColumns(environment, environment.names.monolith, table.source);
    expected[table.source] = await tableContent(
      environment,
      newDatabases(environment)[table.database],
      table.target,
      columns,
    );
  }
  return expected;
}

/** The same contents, read from the monolith's legacy tables. */
export async function monolithContents(environment: TestEnvironment): Promise<Record<string, unknown>> {
  const found: Record<string, unknown> = {};
  for (const table of DEFAULT_PLAN.tables) {
    const columns = await legacyColumns(environment, environment.names.monolith, table.source);
    found[table.source] = await tableContent(environment, environment.names.monolith, table.source, columns);
  }
  return found;
}

/** Inserts, updates and deletes in AUTH, SHARED and the tenant, one of them a multi-statement transaction. */
export async function writeOnNewDatabases(environment: TestEnvironment, round: number): Promise<void> {
  const { auth, shared, tenant } = newDatabases(environment);
  await environment.query(
    auth,
    "INSERT INTO users (nom, prenom, email, password, role) VALUES ($1, 'Rev', $2, 'x', 'USER')",
    [`Reverse ${round}`, `reverse${round}@example.test`],
  );
  await environment.query(
    auth,
    "UPDATE users SET nom = nom || '*' WHERE id = (SELECT id FROM users ORDER BY id LIMIT 1)",
  );
  await environment.query(
    auth,
    'DELETE FROM user_sessions WHERE id = (SELECT id FROM user_sessions ORDER BY id LIMIT 1)',
  );
  await environment.query(
    shared,
    "UPDATE shared_materials SET nom = nom || ' (rev)' WHERE id = (SELECT id FROM shared_materials ORDER BY id LIMIT 1)",
  );
  await environment.query(
    shared,
    'INSERT INTO shared_materials (nom, code, densite, created_at, updated_at) VALUES ($1, $2, 7.85, now(), now())',
    [`Rev ${round}`, `REV-${round}`],
  );
  const client = await environment.client(tenant);
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO clients (societe_id, nom, email, numero_client, created_at, updated_at)
       SELECT societe_id, $1, $2, $3, '2024-02-03 04:05:06.123456', now() FROM clients LIMIT 1`,
      [`Rev ${round}`, `rev${round}@example.test`, `REV-${round}`],
    );
    await client.query("UPDATE clients SET ville = 'Nantes' WHERE numero_client = $1", [`REV-${round}`]);
    await client.query(
      'DELETE FROM clients WHERE id = (SELECT id FROM clients WHERE numero_client NOT LIKE $1 ORDER BY id DESC LIMIT 1)',
      ['REV-%'],
    );
    await client.query('COMMIT');
  } finally {
    await environment.release(client);
  }
}

/** As a superuser would, in the read-only monolith: the session opts out of the database's default. */
export async function onMonolith(environment: TestEnvironment, statements: string[]): Promise<void> {
  const client = await environment.client(environment.names.monolith);
  try {
    await client.query('SET default_transaction_read_only = off');
    for (const statement of statements) await client.query(statement);
  } finally {
    await environment.release(client);
  }
}
