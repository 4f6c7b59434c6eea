import { Client } from 'pg';
import { canInline, inlineParameters } from '../../src/scripts/migration/online/batch-sql';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The follower sends a batch's statements as one simple query with the values inlined: PostgreSQL
 * must read back exactly what it reads from the same values sent as parameters.
 */
describe('batch statements with inlined values', () => {
  const environment = TestEnvironment.create('batchsql');
  let client: Client;

  beforeAll(async () => {
    client = await environment.client('postgres');
    await client.query('SET standard_conforming_strings = on');
  });
  afterAll(async () => {
    await environment.release(client);
    await environment.cleanup();
  });

  it('reads quotes, backslashes, NULLs, unicode and empty arrays back as the parameters', async () => {
    const template = 'SELECT $1::text[] AS list, $2::text AS one, $3::numeric AS amount, $4::text[] AS empty';
    const values = [["l'atelier", 'C:\\temp\\x', null, 'été ✓', '', '$1', '"q"'], null, '12.50', []];
    const expected = await client.query(template, values);
    const inlined = await client.query(inlineParameters(template, values));
    expect(inlined.rows).toEqual(expected.rows);
  });

  it('leaves names and string literals that look like parameters alone', async () => {
    const text = `SELECT $1::text AS "a$1", 'x$2' AS "it's", $2::text AS b`;
    const result = await client.query(inlineParameters(text, ['one', "t'wo"]));
    expect(result.rows).toEqual([{ a$1: 'one', "it's": 'x$2', b: "t'wo" }]);
  });

  it('keeps real parameters for templates with backslashes or dollar quoting', () => {
    expect(canInline('SELECT $1::text[]')).toBe(true);
    expect(canInline("SELECT E'\\n' || $1")).toBe(false);
    expect(canInline('SELECT $$x$$ || $1')).toBe(false);
  });
});
