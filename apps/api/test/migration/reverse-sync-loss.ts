import { TestEnvironment } from '../../../../test/harness/test-environment';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(200);
  }
}

/**
 * A change committed on a new database that never reaches the monolith, while the sync looks
 * healthy: the subscription is disabled, the change committed, the slot advanced past it, the
 * subscription enabled again. The monolith's row keeps its old xmin, as after a lost change.
 */
export async function loseOnTheWay(
  environment: TestEnvironment,
  database: string,
  statement: string,
  parameters: unknown[],
): Promise<void> {
  const kind =
    database === environment.names.auth
      ? 'auth'
      : database === environment.names.shared
        ? 'shared'
        : 'tenant';
  const subscription = `topsteel_rev_${kind}`;
  const slot = `topsteel_rev_${kind}_${environment.names.monolith}`.slice(0, 63);
  const monolith = async (sql: string) => {
    const client = await environment.client(environment.names.monolith);
    try {
      await client.query('SET default_transaction_read_only = off');
      await client.query(sql);
    } finally {
      await environment.release(client);
    }
  };
  await monolith(`ALTER SUBSCRIPTION ${subscription} DISABLE`);
  await until(async () => {
    const rows = await environment.query(
      database,
      'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND NOT active',
      [slot],
    );
    return rows.length > 0;
  });
  await environment.query(database, statement, parameters);
  await environment.query(database, 'SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())', [slot]);
  await monolith(`ALTER SUBSCRIPTION ${subscription} ENABLE`);
  await until(async () => {
    const rows = await environment.query(
      environment.names.monolith,
      'SELECT 1 FROM pg_stat_subscription WHERE subname = $1 AND pid IS NOT NULL',
      [subscription],
    );
    return rows.length > 0;
  });
}
