import { Client } from 'pg';
import { relayCopy } from '../../src/scripts/migration/copy/copy-relay';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The relay forwards the source's CopyData messages to the target untouched: every byte must land,
 * whatever the rows look like, and an error on either side must fail the load and leave the
 * sessions in a state the caller can roll back.
 */
describe('COPY relay between two databases', () => {
  const environment = TestEnvironment.create('copyrelay');
  const sourceDatabase = `${environment.prefix}_src`;
  const targetDatabase = `${environment.prefix}_dst`;
  let source: Client;
  let target: Client;
  const table = `CREATE TABLE t (id integer PRIMARY KEY, label text, payload bytea, amount numeric, at timestamptz)`;
  const fingerprint = `SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY id)) AS hash FROM t`;
  const copyIn = 'COPY t (id, label, payload, amount, at) FROM STDIN (FORMAT binary)';

  beforeAll(async () => {
    await environment.query('postgres', `CREATE DATABASE "${sourceDatabase}"`);
    await environment.query('postgres', `CREATE DATABASE "${targetDatabase}"`);
    source = await environment.client(sourceDatabase);
    target = await environment.client(targetDatabase);
    await source.query(table);
    await target.query(table);
    // Rows of every size: empty and NULL values, text with protocol-looking bytes, a bytea of 200 kB
    // (one message over several socket reads), and enough rows for progress to be reported.
    await source.query(`
      INSERT INTO t
      SELECT i,
             CASE WHEN i % 7 = 0 THEN NULL WHEN i % 5 = 0 THEN '' ELSE 'd' || repeat(E'c\\tE\\n', i % 4) || i END,
             CASE WHEN i = 3 THEN decode(repeat('64', 200000), 'hex') WHEN i % 3 = 0 THEN NULL ELSE int4send(i) END,
             i * 1.50,
             timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
      FROM generate_series(1, 25000) AS i`);
    await source.query(`CREATE FUNCTION noisy(i integer) RETURNS integer LANGUAGE plpgsql AS $$
      BEGIN IF i % 1000 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
  });
  afterAll(async () => {
    await environment.cleanup();
  });

  afterEach(async () => {
    await target.query('ROLLBACK').catch(() => undefined);
    await target.query('TRUNCATE t');
  });

  it('lands every row byte for byte and reports progress on the way', async () => {
    const heard: number[] = [];
    const result = await relayCopy(
      source,
      target,
      { copyOut: 'COPY (SELECT * FROM t) TO STDOUT (FORMAT binary)', copyIn },
      (rows) => heard.push(rows),
    );
    expect(result.rows).toBe(25000);
    expect((await target.query(fingerprint)).rows).toEqual((await source.query(fingerprint)).rows);
    expect(heard.at(-1)).toBe(25000);
    expect(heard.length).toBeGreaterThanOrEqual(3);
    expect(heard).toEqual([...heard].sort((left, right) => left - right));
    // Both sessions are back to normal afterwards.
    expect((await source.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await target.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('skips notices sent in the middle of the data', async () => {
    const copyOut = `COPY (SELECT noisy(id), label, payload, amount, at FROM t) TO STDOUT (FORMAT binary)`;
    const result = await relayCopy(source, target, { copyOut, copyIn });
    expect(result.rows).toBe(25000);
    expect((await target.query(fingerprint)).rows).toEqual((await source.query(fingerprint)).rows);
  });

  it('an empty table relays as zero rows', async () => {
    const copyOut = 'COPY (SELECT * FROM t WHERE false) TO STDOUT (FORMAT binary)';
    expect(await relayCopy(source, target, { copyOut, copyIn })).toEqual({ rows: 0 });
  });

  it('fails the load when the source fails mid-way, and the source session stays usable', async () => {
    await target.query('BEGIN');
    const copyOut = `COPY (SELECT 1 / (id - 20000) + id, label, payload, amount, at FROM t) TO STDOUT (FORMAT binary)`;
    await expect(relayCopy(source, target, { copyOut, copyIn })).rejects.toThrow(/division by zero/);
    await target.query('ROLLBACK');
    expect((await target.query<{ rows: number }>(fingerprint)).rows[0].rows).toBe(0);
    expect((await source.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('fails the load when the source connection drops mid-row, and the target still rolls back at once', async () => {
    // Rows of 1 MB: every socket chunk ends inside a message, so the drop always cuts one.
    await source.query(
      "CREATE TABLE big AS SELECT i AS id, decode(repeat(md5(i::text), 32768), 'hex') AS payload FROM generate_series(1, 40) AS i",
    );
    await target.query('CREATE TABLE big (id integer, payload bytea)');
    const doomed = await environment.client(sourceDatabase);
    try {
      await target.query('BEGIN');
      const socket = (
        doomed as unknown as {
          connection: {
            stream: { once: (event: string, listener: () => void) => void; destroy: () => void };
          };
        }
      ).connection.stream;
      socket.once('readable', () => setImmediate(() => socket.destroy()));
      await expect(
        relayCopy(doomed, target, {
          copyOut: 'COPY (SELECT * FROM big) TO STDOUT (FORMAT binary)',
          copyIn: 'COPY big (id, payload) FROM STDIN (FORMAT binary)',
        }),
      ).rejects.toThrow();
      // Half a message on the target would make it read the CopyFail as data and never answer.
      await target.query('ROLLBACK');
      expect(
        (await target.query<{ rows: number }>('SELECT count(*)::int AS rows FROM big')).rows[0].rows,
      ).toBe(0);
    } finally {
      await environment.release(doomed);
      await target.query('DROP TABLE IF EXISTS big');
    }
  }, 20_000);

  it('fails the load when the target refuses a row, and the target rolls back to empty', async () => {
    await target.query('ALTER TABLE t ADD CONSTRAINT below CHECK (id < 24000)');
    const reader = await environment.client(sourceDatabase);
    try {
      await target.query('BEGIN');
      const copyOut = 'COPY (SELECT * FROM t) TO STDOUT (FORMAT binary)';
      await expect(relayCopy(reader, target, { copyOut, copyIn })).rejects.toThrow(/below/);
      await target.query('ROLLBACK');
      expect((await target.query<{ rows: number }>(fingerprint)).rows[0].rows).toBe(0);
    } finally {
      await environment.release(reader);
      await target.query('ALTER TABLE t DROP CONSTRAINT below');
    }
  });
});
