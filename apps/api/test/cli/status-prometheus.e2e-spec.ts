import { runCli, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The text format as Prometheus reads it: every sample line `name{labels} value`, each metric typed. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n').filter((entry) => entry !== '')) {
    const typed = /^# TYPE (\w+) (\w+)$/.exec(line);
    if (typed) types.set(typed[1], typed[2]);
    if (line.startsWith('#')) continue;
    const sample = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries(
      [...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((match) => [match[1], match[2]]),
    );
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { samples, types };
}

describe('db:status --prometheus', () => {
  const environment = TestEnvironment.create('statusprom');

  beforeAll(async () => {
    await environment.createMonolith();
    expect((await runCli(['migrate'], environment.env())).code).toBe(0);
  }, 300000);
  afterAll(() => environment.cleanup());

  it('prints the database gauges in the Prometheus text format, matching what PostgreSQL says', async () => {
    const names = environment.names;
    // Autovacuum may still be writing free-space maps and statistics after the split: PostgreSQL's
    // sizes are read just before and just after, and the gauge must lie between them.
    const databaseSizes = () =>
      environment.query<{ datname: string; size: string }>(
        'postgres',
        'SELECT datname, pg_database_size(datname)::text AS size FROM pg_database WHERE datname = ANY($1) ORDER BY datname',
        [[names.monolith, names.auth, names.shared, names.defaultTenant]],
      );
    const before = await databaseSizes();
    const result = await runNpmScript('db:status', ['--prometheus'], environment.env());
    expect([result.code, result.code === 0 ? '' : result.stderr]).toEqual([0, '']);
    const { samples, types } = parseExposition(result.stdout);
    for (const sample of samples)
      expect([sample.name, types.get(sample.name)]).toEqual([sample.name, 'gauge']);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find(
        (sample) =>
          sample.name === name &&
          Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted),
      )?.value;

    const after = await databaseSizes();
    expect(after).toHaveLength(4);
    for (const [index, { datname, size }] of after.entries()) {
      const bounds = [Number(before[index].size), Number(size)].sort((a, b) => a - b);
      const gauge = value('topsteel_database_size_bytes', { database: datname }) ?? -1;
      expect([datname, gauge >= bounds[0] && gauge <= bounds[1] ? 'within' : gauge]).toEqual([
        datname,
        'within',
      ]);
    }
    expect(
      value('topsteel_database_size_bytes', { database: names.monolith, kind: 'monolith' }),
    ).toBeDefined();
    expect(value('topsteel_database_size_bytes', { database: names.auth, kind: 'auth' })).toBeDefined();

    const tenants = await environment.query<{ count: number }>(
      'postgres',
      "SELECT count(*)::int AS count FROM pg_database WHERE datname LIKE $1 || '\\_%' AND datname <> ALL($2)",
      [names.tenantPrefix, [names.monolith, names.auth, names.shared]],
    );
    expect(value('topsteel_tenant_databases')).toBe(tenants[0].count);
    expect(value('topsteel_split_status', { status: 'complete' })).toBe(1);
    for (const database of [names.auth, names.shared, names.defaultTenant])
      expect([database, value('topsteel_database_pending_migrations', { database })]).toEqual([database, 0]);
    expect(value('topsteel_migration_lock_held')).toBe(0);
    expect(samples.some((sample) => sample.name === 'topsteel_database_connections')).toBe(true);
    expect(samples.some((sample) => sample.name.startsWith('topsteel_online_split'))).toBe(false);
  }, 120000);

  it('refuses --prometheus with --json (exit 2)', async () => {
    const result = await runCli(['status', '--prometheus', '--json'], environment.env());
    expect(result.code).toBe(2);
  });
});
