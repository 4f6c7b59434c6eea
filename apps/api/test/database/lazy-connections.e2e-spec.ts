import { ConnectionRecorder } from '../../../../test/harness/connection-recorder';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { testServer } from '../../../../test/harness/test-server';

/**
 * The named connections open on first use: commands that only read the monolith never try AUTH,
 * SHARED or the default société's database, even when those databases do not exist. The CLI talks to
 * PostgreSQL through a relay that writes down every connection's database, failed attempts included.
 */
describe('named connections before the split', () => {
  const environment = TestEnvironment.create('lazyconn');
  let recorder: ConnectionRecorder;
  const env = () => environment.env({ DB_HOST: '127.0.0.1', DB_PORT: String(recorder.port) });
  const splitDatabases = () => [
    environment.names.auth,
    environment.names.shared,
    environment.names.defaultTenant,
  ];

  beforeAll(async () => {
    await environment.createMonolith();
    recorder = await ConnectionRecorder.start(testServer());
  });
  beforeEach(() => recorder.startups.splice(0));
  afterAll(async () => {
    await recorder?.close();
    await environment.cleanup();
  });

  it('has no AUTH, SHARED or tenant database to start with', async () => {
    for (const database of splitDatabases()) expect(await environment.databaseExists(database)).toBe(false);
  });

  it('--help opens no connection at all', async () => {
    const result = await runCli(['--help'], env());
    expect(result.code).toBe(0);
    expect(recorder.startups).toEqual([]);
  });

  it('db:audit reads the monolith and opens neither AUTH nor the tenant database', async () => {
    const result = await runNpmScript('db:audit', ['--json'], env());
    expect(result.code).toBe(0);
    expect(recorder.databases()).toContain(environment.names.monolith);
    for (const database of splitDatabases()) expect(recorder.databases()).not.toContain(database);
  });

  it('db:backup dumps the monolith only and opens neither AUTH nor the tenant database', async () => {
    const result = await runNpmScript('db:backup', ['--json'], env());
    expect(result.code).toBe(0);
    const { manifest } = parseJson<{ manifest: { databases: { role: string }[] } }>(result);
    expect(manifest.databases.map((database) => database.role)).toEqual(['monolith']);
    expect(recorder.databases()).toContain(environment.names.monolith);
    for (const database of splitDatabases()) expect(recorder.databases()).not.toContain(database);
  });

  it('db:migration:dry-run and db:status do not open the tenant connection before the split', async () => {
    for (const script of ['db:migration:dry-run', 'db:status']) {
      const result = await runNpmScript(script, ['--json'], env());
      expect({ script, code: result.code }).toEqual({ script, code: 0 });
    }
    expect(recorder.databases()).toContain(environment.names.monolith);
    for (const database of splitDatabases()) expect(recorder.databases()).not.toContain(database);
    expect(recorder.startups.map((startup) => startup.applicationName)).not.toContain('topsteel-tenant');
  });
});
