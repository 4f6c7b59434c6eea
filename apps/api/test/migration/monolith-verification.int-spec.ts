import { DatabaseConfigService } from '../../src/modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../src/modules/database/postgres-connection.factory';
import { ReverseSyncState, XidPoint } from '../../src/scripts/migration/online/reverse-sync-names';
import { MonolithVerifier } from '../../src/scripts/migration/rollback/monolith-verification';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The rollback's verification of the monolith against a new database, on two hand-made databases
 * of the test server standing for both ends of a reverse sync: items has a key (compared by its
 * rows changed since the horizon), notes has none (compared in full). The new database's side is
 * read when startNewSide is called (right after the block), the monolith's in finish (after the drain).
 */
const SCHEMA = `
  CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);
  CREATE TABLE notes (body text);
  INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g;
  INSERT INTO notes SELECT 'note ' || g FROM generate_series(1, 50) g;
`;

describe('MonolithVerifier', () => {
  const environment = TestEnvironment.create('verify');
  const [monolith, target] = [environment.names.monolith, environment.names.auth];
  const config = new DatabaseConfigService();
  let connections: PostgresConnectionFactory;
  let since: { monolith: XidPoint; target: XidPoint };

  // The tool takes the snapshot's xmin (a transaction in flight then must count as recent). Here
  // nothing else writes these databases, but other suites share the server: one of their open
  // transactions would hold xmin back on one side and not the other, and the setup's rows would be
  // "recent" on one side only. xmax (the next transaction id) puts them behind both horizons.
  const horizon = async (database: string): Promise<XidPoint> => {
    const [point] = await environment.query<XidPoint>(
      database,
      'SELECT txid_snapshot_xmax(txid_current_snapshot())::text AS xid, now()::text AS at',
    );
    return point;
  };
  const both = async (sql: string) => {
    await environment.query(monolith, sql);
    await environment.query(target, sql);
  };
  const state = (targetSince: XidPoint = since.target): ReverseSyncState => ({
    links: [
      {
        kind: 'auth',
        database: target,
        host: null,
        port: null,
        publication: 'p',
        slot: 's',
        subscription: 'sub',
        tables: [
          { target: 'items', source: 'items', columns: ['id', 'name'] },
          { target: 'notes', source: 'notes', columns: ['body'] },
        ],
        since: targetSince,
      },
    ],
    identities: [],
    shadows: [],
    startedAt: since.monolith.at,
    monolithSince: since.monolith,
  });
  /** The rollback's order: sessions opened, (block), new side read, (drain), monolith read and compared. */
  const verify = async (
    reverse: ReverseSyncState,
    beforeBlock?: () => Promise<void>,
    drain?: () => Promise<void>,
  ) => {
    const verifier = await MonolithVerifier.prepare(connections, { database: monolith }, reverse);
    try {
      await beforeBlock?.();
      verifier.startNewSide();
      await drain?.();
      return await verifier.finish();
    } finally {
      await verifier.end();
    }
  };

  beforeAll(async () => {
    for (const database of [monolith, target]) {
      await environment.query('postgres', `CREATE DATABASE "${database}"`);
      await environment.query(database, SCHEMA);
    }
    // The cutover: both ends level, then the horizons; afterwards, changes that flowed back.
    since = { monolith: await horizon(monolith), target: await horizon(target) };
    await both(
      "UPDATE items SET name = 'synced' WHERE id IN (10, 11); INSERT INTO items VALUES (5000, 'new')",
    );
    config.useConfig(environment.config());
    connections = new PostgresConnectionFactory(config);
  });
  afterAll(() => environment.cleanup());

  it('compares a keyed table by its rows changed since the horizon, a keyless one in full', async () => {
    await expect(verify(state())).resolves.toEqual({ tablesVerified: 2, incremental: 1, full: 1 });
  });

  it('sees an update made on the new database after its sessions opened, just before the block', async () => {
    const update = "UPDATE items SET name = 'late' WHERE id = 20";
    // Never reaching the monolith: refused, by the incremental figures confirmed in full.
    await expect(
      verify(state(), () => environment.query(target, update).then(() => undefined)),
    ).rejects.toThrow(/items \(2001 rows in the monolith, 2001 in .*content differs\)/);
    // Applied by the drain, after the new side was read: level.
    await expect(
      verify(state(), undefined, () => environment.query(monolith, update).then(() => undefined)),
    ).resolves.toEqual({ tablesVerified: 2, incremental: 1, full: 1 });
  });

  it('names a row deleted on the new database only, and an old row changed in the monolith only', async () => {
    await environment.query(target, 'DELETE FROM items WHERE id = 30');
    await expect(verify(state())).rejects.toThrow(/items \(2001 rows in the monolith, 2000 in /);
    await environment.query(monolith, 'DELETE FROM items WHERE id = 30');
    await environment.query(monolith, "UPDATE notes SET body = 'changed' WHERE body = 'note 7'");
    await expect(verify(state())).rejects.toThrow(
      /notes \(50 rows in the monolith, 50 in .*content differs\)/,
    );
    await environment.query(monolith, "UPDATE notes SET body = 'note 7' WHERE body = 'changed'");
  });

  it('compares in full when a horizon is 2^31 transactions or more back, and still finds a difference', async () => {
    const [{ next }] = await environment.query<{ next: string }>(
      target,
      'SELECT txid_snapshot_xmax(txid_current_snapshot())::text AS next',
    );
    const farBack = { xid: String(BigInt(next) - 2n ** 31n), at: since.target.at };
    await expect(verify(state(farBack))).resolves.toEqual({ tablesVerified: 2, incremental: 0, full: 2 });
    // A horizon just inside the window stays incremental.
    const inside = { xid: String(BigInt(since.target.xid)), at: since.target.at };
    await expect(verify(state(inside))).resolves.toMatchObject({ incremental: 1 });
    await environment.query(target, "UPDATE items SET name = 'lost' WHERE id = 40");
    await expect(verify(state(farBack))).rejects.toThrow(/items \(.*content differs\)/);
  });
});
