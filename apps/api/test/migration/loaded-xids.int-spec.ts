import { Client } from 'pg';
import { loadedXidsProof } from '../../src/scripts/migration/split/loaded-xids';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The load proof on a real server: a table loaded by one transaction (truncated and filled, as the
 * copy's transaction does), then touched the ways an application or a DBA would. Each case starts
 * from a fresh load.
 */
describe('loadedXidsProof', () => {
  const environment = TestEnvironment.create('xidproof');
  const database = environment.names.auth;
  let client: Client;

  /** Loads `items` the way the copy does and returns what the journal would record. */
  const load = async (): Promise<{ rows: number; xids: string[]; columns: string[] }> => {
    await client.query('BEGIN');
    await client.query('TRUNCATE items');
    await client.query("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g");
    const [{ xid }] = (await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows;
    await client.query('COMMIT');
    return { rows: 500, xids: [xid], columns: ['id', 'name'] };
  };
  const proof = (loaded: { rows: number; xids: string[]; columns: string[] }) =>
    loadedXidsProof(client, 'items', loaded);

  beforeAll(async () => {
    await environment.query('postgres', `CREATE DATABASE "${database}"`);
    client = await environment.client(database);
    await client.query('CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)');
  });
  afterAll(() => environment.cleanup());

  it('holds for the table as loaded, and after VACUUM FREEZE, VACUUM FULL and CLUSTER', async () => {
    const loaded = await load();
    await expect(proof(loaded)).resolves.toEqual({ rows: 500, foreignRows: 0, unchanged: true });
    await client.query('VACUUM (FREEZE) items');
    await client.query('VACUUM FULL items');
    await client.query('CLUSTER items USING items_pkey');
    await expect(proof(loaded)).resolves.toEqual({ rows: 500, foreignRows: 0, unchanged: true });
  });

  it('fails for an update of one row, even to the same value, and for a delete-one-insert-one', async () => {
    let loaded = await load();
    await client.query("UPDATE items SET name = 'changed' WHERE id = 7");
    await expect(proof(loaded)).resolves.toEqual({ rows: 500, foreignRows: 1, unchanged: false });
    loaded = await load();
    await client.query('UPDATE items SET name = name WHERE id = 7');
    await expect(proof(loaded)).resolves.toMatchObject({ unchanged: false });
    loaded = await load();
    await client.query("DELETE FROM items WHERE id = 8; INSERT INTO items VALUES (9999, 'swapped')");
    await expect(proof(loaded)).resolves.toEqual({ rows: 500, foreignRows: 1, unchanged: false });
  });

  it('fails for a delete alone, a dropped column, a dropped table', async () => {
    let loaded = await load();
    await client.query('DELETE FROM items WHERE id = 8');
    await expect(proof(loaded)).resolves.toEqual({ rows: 499, foreignRows: 0, unchanged: false });
    loaded = await load();
    await expect(proof({ ...loaded, columns: ['id', 'name', 'gone'] })).resolves.toMatchObject({
      rows: null,
      unchanged: false,
    });
    await expect(loadedXidsProof(client, 'missing', loaded)).resolves.toMatchObject({
      rows: null,
      unchanged: false,
    });
  });

  it('refuses xids it cannot vouch for: none, or one of another epoch whose 32-bit form matches', async () => {
    const loaded = await load();
    await expect(proof({ ...loaded, xids: [] })).resolves.toMatchObject({ unchanged: false });
    const future = (BigInt(loaded.xids[0]) + 4294967296n).toString();
    await expect(proof({ ...loaded, xids: [future] })).resolves.toMatchObject({
      foreignRows: 0,
      unchanged: false,
    });
  });
});
