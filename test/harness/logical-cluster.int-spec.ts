import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { LOGICAL_CLUSTER_ENV, LogicalCluster, startLogicalCluster } from './logical-cluster';

/** What an online split needs from the cluster: logical WAL, and a pgoutput slot it can create. */
async function logicalDecoding(cluster: LogicalCluster): Promise<{ walLevel: string; slot: string }> {
  const client = new Client({ ...cluster, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
    const created = await client.query<{ slot_name: string }>(
      "SELECT slot_name FROM pg_create_logical_replication_slot('harness_probe', 'pgoutput')",
    );
    await client.query("SELECT pg_drop_replication_slot('harness_probe')");
    return { walLevel: rows[0].wal_level, slot: created.rows[0].slot_name };
  } finally {
    await client.end();
  }
}

/** The data folder the server runs from (stopping the cluster must remove it). */
async function dataDirectory(cluster: LogicalCluster): Promise<string> {
  const client = new Client({ ...cluster, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0].data_directory;
  } finally {
    await client.end();
  }
}

describe('startLogicalCluster', () => {
  const previous = process.env[LOGICAL_CLUSTER_ENV];
  afterEach(() => {
    if (previous === undefined) delete process.env[LOGICAL_CLUSTER_ENV];
    else process.env[LOGICAL_CLUSTER_ENV] = previous;
  });

  it(`falls back to an embedded PostgreSQL with wal_level=logical (${LOGICAL_CLUSTER_ENV}=embedded)`, async () => {
    process.env[LOGICAL_CLUSTER_ENV] = 'embedded';
    const cluster = await startLogicalCluster();
    let folder = '';
    try {
      expect(cluster.embedded).toBe(true);
      folder = await dataDirectory(cluster);
      expect(await logicalDecoding(cluster)).toEqual({ walLevel: 'logical', slot: 'harness_probe' });
      // Password authentication: the embedded server refuses a wrong password.
      const intruder = new Client({ ...cluster, password: 'wrong', database: 'postgres' });
      await expect(intruder.connect()).rejects.toThrow(/password/);
    } finally {
      await cluster.stop();
    }
    expect(folder).not.toBe('');
    expect(existsSync(folder)).toBe(false);
  });

  it('starts its own cluster with wal_level=logical from the PostgreSQL 15 binaries', async () => {
    delete process.env[LOGICAL_CLUSTER_ENV];
    const cluster = await startLogicalCluster();
    try {
      expect(await logicalDecoding(cluster)).toEqual({ walLevel: 'logical', slot: 'harness_probe' });
    } finally {
      await cluster.stop();
    }
  });
});
