import { Client } from 'pg';
import {
  columnTypes,
  typedChecksumSql,
  typedColumns,
} from '../../src/scripts/migration/catalogue/typed-checksum';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The checksum the split's verification compares, over values hashed by type instead of as text:
 * it must tell apart every two contents whose text differs, agree wherever the text agrees, and
 * agree across databases. Each case writes two tables (or two databases) and compares.
 */
describe('typed checksums', () => {
  const environment = TestEnvironment.create('typed');
  const database = environment.names.monolith;
  const other = `${database}_other`;
  let table = 0;

  async function checksum(client: Client, name: string): Promise<string> {
    const qualified = { schema: 'public', name };
    const columns = (
      await client.query<{ name: string }>(
        `SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [name],
      )
    ).rows.map((row) => row.name);
    const types = await columnTypes(client, qualified, columns);
    if (!types) throw new Error(`no table ${name}`);
    const result = await client.query<{ rows: string; checksum: string }>(
      typedChecksumSql(qualified, [typedColumns(columns, types)]),
    );
    return `${result.rows[0].rows}/${result.rows[0].checksum}`;
  }

  /** Checksums of two tables of the same columns holding `left` and `right` (VALUES lists). */
  async function pair(
    columns: string,
    left: string,
    right: string,
    where = database,
  ): Promise<[string, string]> {
    const client = await environment.client(where);
    try {
      const names = [`l${++table}`, `r${table}`];
      await client.query(
        `CREATE TABLE ${names[0]} (${columns}); INSERT INTO ${names[0]} VALUES ${left};
         CREATE TABLE ${names[1]} (${columns}); INSERT INTO ${names[1]} VALUES ${right};`,
      );
      return [await checksum(client, names[0]), await checksum(client, names[1])];
    } finally {
      await environment.release(client);
    }
  }

  beforeAll(async () => {
    await environment.query('postgres', `CREATE DATABASE "${database}"`);
    await environment.query('postgres', `CREATE DATABASE "${other}"`);
  });
  afterAll(async () => {
    await environment.query('postgres', `DROP DATABASE IF EXISTS "${other}" WITH (FORCE)`);
    await environment.cleanup();
  });

  it('carries its prefix and ignores the order of the rows, never their number', async () => {
    const [left, right] = await pair('id integer, label text', `(1, 'a'), (2, 'b')`, `(2, 'b'), (1, 'a')`);
    expect(left).toMatch(/^2\/typed:-?\d+$/);
    expect(right).toBe(left);
    const [twice, once] = await pair('id integer', '(1), (1), (2)', '(1), (2), (2)');
    expect(twice).not.toBe(once);
  });

  it('sees values of one column moved between rows (the sum of a linear row hash would not)', async () => {
    // Without the second hash, about two re-pairings in three go unseen (only the per-row wrap of
    // the 64-bit combination differs): ten in a row would not all be seen.
    for (let index = 0; index < 10; index++) {
      const [left, right] = await pair(
        'a integer, b text',
        `(${2 * index}, 'x${index}'), (${2 * index + 1}, 'y${index}')`,
        `(${2 * index}, 'y${index}'), (${2 * index + 1}, 'x${index}')`,
      );
      expect(right).not.toBe(left);
    }
  });

  it.each([
    ['numeric', '(1.0)', '(1.00)'],
    ['numeric', `('NaN')`, '(0)'],
    ['bigint', '(0)', '(4294967297)'],
    ['bigint', '(-1)', '(0)'],
    ['timestamp', `('2000-01-01 00:00:00')`, `('2000-01-01 01:11:34.967297')`],
    ['timestamptz', `('2024-03-01 10:00+00')`, `('2024-03-01 10:00:00.000001+00')`],
    ['time', `('00:00:00.000001')`, `('01:11:34.967296')`],
    ['double precision', `('-0')`, `('0')`],
    ['interval', `('1 day')`, `('24 hours')`],
    ['jsonb', `('{"a": 1.0}')`, `('{"a": 1.00}')`],
    ['text', `('')`, '(NULL)'],
    ['text', `('a')`, `('a ')`],
    ['character varying(5)', `('A')`, `('a')`],
    ['bytea', `('\\x00')`, `('\\x0000')`],
    ['uuid', `('00000000-0000-4000-8000-000000000001')`, `('00000000-0000-4000-8000-000000000002')`],
    ['boolean', '(true)', '(false)'],
    ['integer[]', `('{1,2}')`, `('{2,1}')`],
  ])('tells apart two %s values whose text differs: %s and %s', async (type, left, right) => {
    const [one, two] = await pair(`v ${type}`, left, right);
    expect(two).not.toBe(one);
  });

  it('hashes a string by its bytes under a case-insensitive collation', async () => {
    await environment.query(
      database,
      `CREATE COLLATION IF NOT EXISTS folding (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
    );
    const [left, right] = await pair('v text COLLATE folding', `('ABC')`, `('abc')`);
    expect(right).not.toBe(left);
  });

  it('agrees across databases: a timestamptz read in another time zone, an enum of another oid', async () => {
    const setUp = async (where: string, timeZone: string): Promise<string> => {
      const client = await environment.client(where);
      try {
        await client.query(`SET TimeZone = '${timeZone}'`);
        // Another type first in one of the databases, so the enum's labels get other oids.
        if (where === other) await client.query(`CREATE TYPE filler AS ENUM ('x', 'y', 'z')`);
        await client.query(
          `CREATE TYPE statut AS ENUM ('nouvelle', 'livree');
           CREATE TABLE orders (at timestamptz, statut statut, amount numeric(10,2), n bigint);
           INSERT INTO orders VALUES ('2024-03-01 10:00+00', 'livree', 12.50, 9007199254740993),
                                     ('2024-06-30 23:59:59.999999+02', 'nouvelle', NULL, -5)`,
        );
        return await checksum(client, 'orders');
      } finally {
        await environment.release(client);
      }
    };
    const here = await setUp(database, 'UTC');
    const there = await setUp(other, 'Pacific/Auckland');
    expect(there).toBe(here);
  });
});
