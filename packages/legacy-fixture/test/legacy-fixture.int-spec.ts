import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateMonolith,
  GenerateMonolithOptions,
  LEGACY_SCHEMA_PATH,
  legacyTableNames,
  SEEDED_PROBLEMS,
  tableCounts,
} from '@topsteel/legacy-fixture';
import { FIXTURE_REFERENCE_DATE, TestEnvironment } from '../../../test/harness/test-environment';
import { testServer } from '../../../test/harness/test-server';

const SHARED_SCHEMA = join(__dirname, '..', '..', '..', '..', 'shared', 'legacy', 'topsteel-monolith.sql');

async function checksums(environment: TestEnvironment, database: string): Promise<Record<string, string>> {
  const tables = await environment.query<{ name: string }>(
    database,
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  const result: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await environment.query<{ checksum: string }>(
      database,
      `SELECT count(*) || ':' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0) AS checksum FROM public."${name}" t`,
    );
    result[name] = row.checksum;
  }
  return result;
}

describe('legacy fixture', () => {
  const environment = TestEnvironment.create('fixture');

  afterAll(() => environment.cleanup());

  it('ships a byte-identical copy of shared/legacy/topsteel-monolith.sql', () => {
    if (!existsSync(SHARED_SCHEMA)) return; // ../shared is not part of every checkout
    expect(readFileSync(LEGACY_SCHEMA_PATH).equals(readFileSync(SHARED_SCHEMA))).toBe(true);
  });

  it('declares the 66 tables of the contract', () => {
    expect(legacyTableNames()).toHaveLength(66);
  });

  it('loads into a fresh database with exactly the schema tables, every one filled', async () => {
    const database = await environment.createMonolith();
    const tables = await environment.query<{ name: string }>(
      database,
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    );
    expect(tables.map((table) => table.name)).toEqual([...legacyTableNames()].sort());
    const sums = await checksums(environment, database);
    const empty = Object.entries(sums).filter(([, checksum]) => checksum.startsWith('0:'));
    expect(empty).toEqual([]);
    const [commandes] = await environment.query<{ count: string }>(
      database,
      'SELECT count(*) FROM commandes',
    );
    expect(Number(commandes.count)).toBe(tableCounts(1).commandes);
  });

  it('seeds the data-quality problems audits look for', async () => {
    const database = environment.names.monolith;
    const [collisions] = await environment.query<{ count: string }>(
      database,
      'SELECT count(*) FROM (SELECT lower(email) FROM users GROUP BY 1 HAVING count(*) > 1) c',
    );
    expect(Number(collisions.count)).toBe(SEEDED_PROBLEMS.emailCaseCollisions);
    const [duplicates] = await environment.query<{ count: string }>(
      database,
      'SELECT count(*) - count(DISTINCT t) AS count FROM typeorm_metadata t',
    );
    expect(Number(duplicates.count)).toBe(SEEDED_PROBLEMS.duplicateTypeormMetadataRows);
    const [softDeleted] = await environment.query<{ count: string }>(
      database,
      'SELECT count(*) FROM commandes WHERE deleted_at IS NOT NULL',
    );
    expect(Number(softDeleted.count)).toBeGreaterThan(0);
  });

  const generate = (database: string, options: Partial<GenerateMonolithOptions> = {}) => {
    const server = testServer();
    return generateMonolith({
      connection: {
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
        database: 'postgres',
      },
      database,
      scale: 1,
      referenceDate: FIXTURE_REFERENCE_DATE,
      ...options,
    });
  };

  it('is deterministic for a scale and a reference date', async () => {
    const again = `${environment.prefix}_again`;
    await generate(again);
    expect(await checksums(environment, again)).toEqual(
      await checksums(environment, environment.names.monolith),
    );
  });

  it('builds the one-large-table shape deterministically: commandes dwarf the rest', async () => {
    const [first, second] = [`${environment.prefix}_large_a`, `${environment.prefix}_large_b`];
    for (const database of [first, second])
      await generate(database, { scale: 10, distribution: 'one-large-table' });
    const sums = await checksums(environment, first);
    expect(await checksums(environment, second)).toEqual(sums);
    const rows = Object.fromEntries(
      Object.entries(sums).map(([name, checksum]) => [name, Number(checksum.split(':')[0])]),
    );
    expect([rows.commandes, rows.facturation, rows.clients, rows.stocks]).toEqual([10000, 3000, 2000, 1000]);
    const others = Object.entries(rows).filter(
      ([name]) => !['commandes', 'facturation', 'clients', 'stocks'].includes(name),
    );
    expect(others.filter(([, count]) => count === 0 || count >= rows.stocks)).toEqual([]);
  });
});
