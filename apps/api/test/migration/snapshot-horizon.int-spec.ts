import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DatabaseConfigService } from '../../src/modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../src/modules/database/postgres-connection.factory';
import { ExportedSnapshot, releaseClients } from '../../src/scripts/migration/snapshot/exported-snapshot';
import { provenUnchanged, snapshotHorizon } from '../../src/scripts/migration/snapshot/snapshot-horizon';
import { CopyTask } from '../../src/scripts/migration/plan/resolved-plan.types';
import { CopySnapshotChecksums } from '../../src/scripts/migration/verify/copy-snapshot-checksums';
import { checksumSources } from '../../src/scripts/migration/verify/verify-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * The proof that lets db:migrate reuse a backup and the verification keep checksums taken in the
 * copy's snapshot: a later snapshot sees exactly the rows an earlier one saw. Each case takes a
 * horizon, changes something (or nothing), and asks a fresh snapshot.
 */
describe('provenUnchanged (snapshot horizon)', () => {
  const environment = TestEnvironment.create('horizon');
  const database = environment.names.monolith;
  const config = new DatabaseConfigService();
  let connections: PostgresConnectionFactory;
  let table = 0;

  /** A fresh table of 100 rows (and a keyless duplicate pair), and the horizon of a snapshot taken after it. */
  async function tableAndHorizon(): Promise<{ name: string; horizon: string }> {
    const name = `t${++table}`;
    await environment.query(
      database,
      `CREATE TABLE ${name} (id integer, label text);
       INSERT INTO ${name} SELECT g, 'row ' || g FROM generate_series(1, 100) g;
       INSERT INTO ${name} VALUES (0, 'twin'), (0, 'twin')`,
    );
    // A transaction id taken after the setup committed: the setup's are all below it.
    const [{ xid }] = await environment.query<{ xid: string }>(
      database,
      'SELECT pg_current_xact_id()::text AS xid',
    );
    // Other suites' transactions on this server hold the horizon back for a moment: the setup's
    // rows must be behind it, as a monolith's are behind the snapshot of a backup taken later.
    for (let attempt = 0; attempt < 200; attempt++) {
      const snapshot = await ExportedSnapshot.open(connections, { database }, { applicationName: 'test' });
      try {
        const horizon = await snapshotHorizon(snapshot.client);
        if (BigInt(horizon) > BigInt(xid)) return { name, horizon };
      } finally {
        await snapshot.close();
      }
      await sleep(50);
    }
    throw new Error('the horizon never passed the setup');
  }

  async function proven(name: string, horizon: string, rows = 102): Promise<boolean> {
    const snapshot = await ExportedSnapshot.open(connections, { database }, { applicationName: 'test' });
    const sessions: Client[] = [];
    try {
      sessions.push(await snapshot.join('test'));
      const result = await provenUnchanged(sessions, [{ schema: 'public', name, rows }], horizon);
      return result.has(`public.${name}`);
    } finally {
      await releaseClients(sessions);
      await snapshot.close();
    }
  }

  beforeAll(async () => {
    await environment.query('postgres', `CREATE DATABASE "${database}"`);
    config.useConfig(environment.config());
    connections = new PostgresConnectionFactory(config);
  });
  afterAll(() => environment.cleanup());

  it('proves an untouched table, frozen or not, and nothing with a wrong count', async () => {
    const { name, horizon } = await tableAndHorizon();
    await expect(proven(name, horizon)).resolves.toBe(true);
    await environment.query(database, `VACUUM (FREEZE) ${name}`);
    await expect(proven(name, horizon)).resolves.toBe(true);
    await expect(proven(name, horizon, 101)).resolves.toBe(false);
  });

  it.each([
    ['an update that keeps the count', (name: string) => `UPDATE ${name} SET label = 'changed' WHERE id = 7`],
    ['a delete', (name: string) => `DELETE FROM ${name} WHERE id = 7`],
    [
      'a delete and an insert',
      (name: string) => `DELETE FROM ${name} WHERE id = 7; INSERT INTO ${name} VALUES (7, 'row 7')`,
    ],
    [
      'one twin deleted and the other doubled',
      (name: string) =>
        `DELETE FROM ${name} WHERE ctid = (SELECT min(ctid) FROM ${name} WHERE id = 0); INSERT INTO ${name} VALUES (0, 'twin')`,
    ],
    [
      'a rewrite with the same rows',
      (name: string) =>
        `CREATE TEMP TABLE keep AS SELECT * FROM ${name}; TRUNCATE ${name}; INSERT INTO ${name} SELECT * FROM keep`,
    ],
    [
      'an update undone in the same transaction',
      (name: string) =>
        `BEGIN; UPDATE ${name} SET label = 'x' WHERE id = 7; UPDATE ${name} SET label = 'row 7' WHERE id = 7; COMMIT`,
    ],
  ])('refuses after %s', async (_label, change) => {
    const { name, horizon } = await tableAndHorizon();
    await environment.query(database, change(name));
    await expect(proven(name, horizon)).resolves.toBe(false);
  });

  // (A horizon more than 2^29 transactions back cannot be made on a test cluster this young.)
  it('proves nothing from a horizon in the future or one that is not a transaction id', async () => {
    const { name, horizon } = await tableAndHorizon();
    await expect(proven(name, String(BigInt(horizon) + 1000000n))).resolves.toBe(false);
    await expect(proven(name, '1; DROP TABLE x')).resolves.toBe(false);
    await expect(proven(name, '')).resolves.toBe(false);
  });

  describe('CopySnapshotChecksums (the source side of the verification, beside the copy)', () => {
    const SOCIETE = '00000000-0000-4000-8000-000000000001';
    const task = (name: string): CopyTask => ({
      source: name,
      target: name,
      database: 'tenant',
      columns: [
        { name: 'id', sourceType: 'integer', targetType: 'bigint' },
        { name: 'label', sourceType: 'text', targetType: 'text' },
      ],
      addedColumns: [{ name: 'societe_id', type: 'uuid', fill: { kind: 'societe-id' }, rule: 'test' }],
      estimatedRows: 102,
      sizeBytes: 8192,
      readable: true,
    });

    /** Checksums started in a copy snapshot, `change` run after it, then settled in a fresh one. */
    async function settleAfter(names: string[], change: () => Promise<unknown>) {
      const copy = await ExportedSnapshot.open(connections, { database }, { applicationName: 'test' });
      const early = await CopySnapshotChecksums.start(copy, names.map(task), {
        societeId: SOCIETE,
        sessions: 1,
      });
      await copy.close();
      await change();
      const fresh = await ExportedSnapshot.open(connections, { database }, { applicationName: 'test' });
      const sessions = [await fresh.join('test')];
      try {
        return {
          settled: await early.settle(sessions, names.map(task), 'typed'),
          // Targets on a server older than 14 are hashed as text: nothing typed is kept then.
          ofAnotherKind: await early.settle(sessions, names.map(task), 'text'),
          recomputed: await checksumSources(sessions, names.map(task), {
            societeId: SOCIETE,
            label: 'test',
            hash: 'typed',
          }),
        };
      } finally {
        await releaseClients(sessions);
        await fresh.close();
      }
    }

    it('reports no failure when the copy abandons the readers in the middle of a checksum', async () => {
      const { name } = await tableAndHorizon();
      const slow: CopyTask = {
        ...task(name),
        // Two seconds per checksum: still under way when the copy gives up.
        addedColumns: [
          {
            name: 'slow',
            type: 'integer',
            fill: { kind: 'expression', sql: '(SELECT 1 FROM pg_sleep(2))' },
            rule: 'test',
          },
        ],
      };
      const failures: unknown[] = [];
      const copy = await ExportedSnapshot.open(connections, { database }, { applicationName: 'test' });
      try {
        const early = await CopySnapshotChecksums.start(copy, [slow], {
          societeId: SOCIETE,
          sessions: 1,
          onFailure: (error) => failures.push(error),
        });
        await sleep(300);
        await early.abandon();
      } finally {
        await copy.close();
      }
      expect(failures).toEqual([]);
    });

    it('keeps the checksum of an untouched table, equal to one taken afresh, and drops a changed one', async () => {
      const untouched = (await tableAndHorizon()).name;
      const changed = (await tableAndHorizon()).name;
      const { settled, ofAnotherKind, recomputed } = await settleAfter([untouched, changed], () =>
        environment.query(database, `UPDATE ${changed} SET label = 'late' WHERE id = 3`),
      );
      expect(settled.get(untouched)).toEqual(recomputed.get(untouched));
      expect(settled.get(untouched)?.checksum).toMatch(/^typed:/);
      expect(settled.has(changed)).toBe(false);
      expect(ofAnotherKind.size).toBe(0);
      expect(recomputed.get(changed)?.rows).toBe(102);
    });
  });
});
