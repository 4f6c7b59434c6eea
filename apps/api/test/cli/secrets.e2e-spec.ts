import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { quoteLiteral } from '../../src/common/identifiers/identifier';
import { runCli, runNpmScript } from '../../../../test/harness/cli';
import { startEmbeddedServer } from '../../../../test/harness/embedded-server';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { testServer } from '../../../../test/harness/test-server';

/** DESIGN.md invariant 6: no password in any output or log, whatever happens. */
describe('secrets never leak', () => {
  const environment = TestEnvironment.create('secrets');
  const password = testServer().password;

  beforeAll(() => environment.createMonolith());
  afterAll(() => environment.cleanup());

  const logs = (): string =>
    readdirSync(environment.logDir)
      .map((file) => readFileSync(join(environment.logDir, file), 'utf8'))
      .join('\n');

  it('uses a recognisable password', () => {
    expect(password.length).toBeGreaterThanOrEqual(8);
  });

  it.each([
    ['a successful run', ['status', '--json'], {}],
    ['a verbose run', ['status', '--verbose'], {}],
    ['a configuration error', ['status'], { DB_PORT: 'x' }],
    [
      'an unreachable server',
      ['status', '--json'],
      { DB_HOST: '127.0.0.1', DB_PORT: '1', DB_CONNECTION_TIMEOUT: '1000' },
    ],
    ['a missing database', ['status'], { DB_MAINTENANCE_NAME: 'no_such_database_here' }],
    ['a bad flag', ['status', '--bogus'], {}],
  ])('in %s', async (_label, args, overrides) => {
    const result = await runCli(args, environment.env(overrides));
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(logs()).not.toContain(password);
  });

  it('through the npm script', async () => {
    const result = await runNpmScript('db:status', ['--json'], environment.env());
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr + logs()).not.toContain(password);
  });

  it('with DB_PASSWORD=postgres, still names the maintenance database "postgres" readably', async () => {
    const result = await runCli(
      ['status', '--json'],
      environment.env({
        DB_PASSWORD: 'postgres',
        DB_HOST: '127.0.0.1',
        DB_PORT: '1',
        DB_CONNECTION_TIMEOUT: '1000',
        DB_CONNECT_RETRY_TIMEOUT: '0',
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('database "postgres"');
    expect(result.stdout).toContain('database \\"postgres\\"');
    expect(result.stdout + result.stderr).not.toContain('[redacted]');
  });

  describe('on a server that checks passwords', () => {
    const serverPassword = 'Pa55-Embedded-Check';
    let server: Awaited<ReturnType<typeof startEmbeddedServer>>;

    beforeAll(async () => {
      server = await startEmbeddedServer(serverPassword);
    }, 60000);
    afterAll(() => server?.stop());

    const against = (password: string | undefined) =>
      environment.env({
        DB_HOST: server.host,
        DB_PORT: String(server.port),
        DB_USERNAME: server.user,
        DB_PASSWORD: password,
        DB_NAME: 'postgres_monolith',
      });

    it('a wrong password exits 2 naming DB_PASSWORD, without the password', async () => {
      const result = await runCli(['status'], against('Wrong-Pa55word'));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('DB_PASSWORD');
      // Wrong credentials are never taken for a server busy for a moment: no retry.
      expect(result.stderr).not.toContain('retrying');
      expect(result.stdout + result.stderr + logs()).not.toContain('Wrong-Pa55word');
    });

    it('dry-run with a wrong password exits 2 (configuration), without the password', async () => {
      const result = await runCli(['dry-run', '--json'], against('Wrong-Pa55word'));
      expect(result.code).toBe(2);
      expect(result.stdout + result.stderr + logs()).not.toContain('Wrong-Pa55word');
    });

    it('a missing password exits 2 and says DB_PASSWORD is needed', async () => {
      const result = await runCli(['status'], against(''));
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/DB_PASSWORD/);
    });

    it('a password holding " and \\ is never shown, as written or JSON-escaped', async () => {
      const quoted = 'Pa"55\\Quote-Check';
      const escaped = JSON.stringify(quoted).slice(1, -1);
      await withClient(server, (client) =>
        client.query(`ALTER ROLE ${server.user} PASSWORD ${quoteLiteral(quoted)}`),
      );
      try {
        const good = await runCli(['status', '--json'], against(quoted));
        expect(good.code).toBe(0);
        const wrong = await runCli(['dry-run', '--json'], against(`${quoted}-wrong`));
        expect(wrong.code).toBe(2);
        const everything = good.stdout + good.stderr + wrong.stdout + wrong.stderr + logs();
        expect(everything).not.toContain(quoted);
        expect(everything).not.toContain(escaped);
        expect(everything).not.toContain('Quote-Check');
      } finally {
        await withClient({ ...server, password: quoted }, (client) =>
          client.query(`ALTER ROLE ${server.user} PASSWORD ${quoteLiteral(serverPassword)}`),
        );
      }
    });

    it('the right password works and is not printed', async () => {
      const result = await runCli(['status', '--json'], against(serverPassword));
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr + logs()).not.toContain(serverPassword);
    });
  });
});

async function withClient<T>(
  server: { host: string; port: number; user: string; password: string },
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ ...server, database: 'postgres' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
