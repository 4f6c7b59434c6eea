import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { SchemaFanOutReport } from '../../src/scripts/migration/fan-out/schema-fan-out';
import { ServerStatus } from '../../src/scripts/migration/status/server-status.service';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { ExtraCluster, startExtraCluster } from '../../../../test/harness/extra-cluster';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';

const EU1_PASSWORD = 'eu1-only-password-7f3a';
const EU2_PASSWORD = 'eu2-only-password-91c2';
const JEAN = 'jean.dupont@topsteel.fr';
const MIGRATION = `
class AddClientRating1767225600000 {
  constructor() { this.name = 'AddClientRating1767225600000'; }
  async up(queryRunner) { await queryRunner.query('ALTER TABLE clients ADD COLUMN rating integer'); }
  async down(queryRunner) { await queryRunner.query('ALTER TABLE clients DROP COLUMN rating'); }
}
module.exports = { AddClientRating1767225600000 };
`;

type ErrorDocument = { exitCode: number; error: { code: string; message: string } };

/**
 * Sociétés on two extra PostgreSQL clusters plus the default server, through the npm scripts and the
 * app: placement, refusal of unknown servers, routing, status, fan-out with a server down, backup
 * and rollback across servers.
 */
describe('tenants on several PostgreSQL servers', () => {
  const environment = TestEnvironment.create('servers');
  const extraDir = join(environment.root, 'migrations');
  let eu1: ExtraCluster;
  let eu2: ExtraCluster;
  let app: RunningApp | undefined;
  const database = (code: string) => `${environment.prefix}_${code.toLowerCase()}`;
  const env = (extra: Record<string, string | undefined> = {}) =>
    environment.env({
      TENANT_SERVERS: `eu1=127.0.0.1:${eu1.port},eu2=127.0.0.1:${eu2.port}`,
      TENANT_SERVER_EU1_PASSWORD: EU1_PASSWORD,
      TENANT_SERVER_EU2_PASSWORD: EU2_PASSWORD,
      TENANT_SERVER_MAX_CONNECTIONS: '2',
      // A stopped server is retried for this long before its sociétés fail (15 s by default).
      DB_CONNECT_RETRY_TIMEOUT: '1000',
      ...extra,
    });

  const onCluster = async <Row extends Record<string, unknown>>(
    cluster: ExtraCluster,
    databaseName: string,
    sql: string,
    parameters: unknown[] = [],
  ): Promise<Row[]> => {
    const client = new Client({
      host: cluster.host,
      port: cluster.port,
      user: cluster.user,
      password: cluster.password,
      database: databaseName,
    });
    await client.connect();
    try {
      return (await client.query<Row>(sql, parameters)).rows;
    } finally {
      await client.end();
    }
  };
  const existsOn = async (cluster: ExtraCluster | 'default', name: string): Promise<boolean> => {
    const sql = 'SELECT 1 FROM pg_database WHERE datname = $1';
    const rows =
      cluster === 'default'
        ? await environment.query(environment.names.monolith, sql, [name])
        : await onCluster(cluster, 'postgres', sql, [name]);
    return rows.length === 1;
  };
  const hasRating = async (cluster: ExtraCluster | 'default', name: string): Promise<boolean> => {
    const sql =
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'clients' AND column_name = 'rating'";
    const rows =
      cluster === 'default' ? await environment.query(name, sql) : await onCluster(cluster, name, sql);
    return rows.length === 1;
  };

  beforeAll(async () => {
    [eu1, eu2] = await Promise.all([startExtraCluster(EU1_PASSWORD), startExtraCluster(EU2_PASSWORD)]);
    await environment.createMonolith();
    const migrate = await runNpmScript('db:migrate', [], env());
    expect(migrate.code).toBe(0);
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all([eu1?.remove(), eu2?.remove()]);
    await environment.cleanup();
  });

  it('places a société on the named server: database there only, registry records the name', async () => {
    for (const [code, server] of [
      ['ALPHA', 'eu1'],
      ['ALPHB', 'eu1'],
      ['BETA', 'eu2'],
      ['GAMMA', undefined],
    ] as const) {
      const args = [code, `Société ${code}`, '--json', ...(server ? ['--server', server] : [])];
      const result = await runNpmScript('db:societe:create', args, env());
      expect(result.code).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(EU1_PASSWORD);
      expect(result.stdout + result.stderr).not.toContain(EU2_PASSWORD);
    }
    expect(await existsOn(eu1, database('ALPHA'))).toBe(true);
    expect(await existsOn(eu1, database('ALPHB'))).toBe(true);
    expect(await existsOn(eu2, database('BETA'))).toBe(true);
    expect(await existsOn('default', database('GAMMA'))).toBe(true);
    expect(await existsOn('default', database('ALPHA'))).toBe(false);
    expect(await existsOn(eu2, database('ALPHA'))).toBe(false);
    const registry = await environment.query(
      environment.names.auth,
      'SELECT code, database_server, database_host, database_port FROM societes ORDER BY code',
    );
    expect(registry).toEqual([
      { code: 'ALPHA', database_server: 'eu1', database_host: null, database_port: null },
      { code: 'ALPHB', database_server: 'eu1', database_host: null, database_port: null },
      { code: 'BETA', database_server: 'eu2', database_host: null, database_port: null },
      { code: 'GAMMA', database_server: 'default', database_host: null, database_port: null },
      { code: 'TOPSTEEL', database_server: 'default', database_host: null, database_port: null },
    ]);
    const journal = await environment.query(
      environment.names.auth,
      "SELECT name, server FROM migration_journal.databases WHERE kind = 'tenant' AND server IS NOT NULL ORDER BY name",
    );
    expect(journal).toEqual([
      { name: database('ALPHA'), server: 'eu1' },
      { name: database('ALPHB'), server: 'eu1' },
      { name: database('BETA'), server: 'eu2' },
      { name: database('GAMMA'), server: 'default' },
    ]);
  });

  it('refuses an unknown server with exit 2 and creates nothing anywhere', async () => {
    const result = await runNpmScript(
      'db:societe:create',
      ['NOWHERE', 'Nowhere', '--server', 'eu9', '--json'],
      env(),
    );
    expect(result.code).toBe(2);
    expect(parseJson<ErrorDocument>(result).error.code).toBe('INVALID_SOCIETE_INPUT');
    expect(result.stderr).toContain('"eu9" is not declared in TENANT_SERVERS');
    for (const where of ['default', eu1, eu2] as const)
      expect(await existsOn(where, database('NOWHERE'))).toBe(false);
    expect(
      await environment.query(environment.names.auth, "SELECT 1 FROM societes WHERE code = 'NOWHERE'"),
    ).toHaveLength(0);
    expect(
      await environment.query(
        environment.names.auth,
        'SELECT 1 FROM migration_journal.databases WHERE name = $1',
        [database('NOWHERE')],
      ),
    ).toHaveLength(0);
  });

  it.each([
    ['a URL with a password', 'eu1=postgres://admin:hunter2-secret@pg:5432'],
    ['default redefined', 'default=127.0.0.1:5432'],
    ['a duplicate name', 'eu1=127.0.0.1:5432,eu1=127.0.0.1:5433'],
  ])('exits 2 naming TENANT_SERVERS on %s, without its value', async (_label, value) => {
    const result = await runCli(['status'], env({ TENANT_SERVERS: value }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TENANT_SERVERS');
    expect(result.stderr + result.stdout).not.toContain('hunter2-secret');
  });

  it('routes a member to the tenant on its server; POST /societes takes a declared server only', async () => {
    const [alpha] = await environment.query<{ id: string }>(
      environment.names.auth,
      "SELECT id FROM societes WHERE code = 'ALPHA'",
    );
    await onCluster(
      eu1,
      database('ALPHA'),
      "INSERT INTO clients (nom, numero_client, societe_id) VALUES ('Client on eu1', 'EU1-1', $1)",
      [alpha.id],
    );
    await environment.query(
      environment.names.auth,
      `INSERT INTO societe_users (societe_id, user_id) SELECT $1::uuid, id FROM users WHERE email = $2`,
      [alpha.id, JEAN],
    );
    app = await RunningApp.start(env());
    const jean = await app.login(JEAN, ADMIN_ACCOUNT.password);
    const clients = await app.request<{ items: { numeroClient: string }[] }>('/tenant/clients', {
      token: jean,
      societe: 'ALPHA',
    });
    expect(clients.status).toBe(200);
    expect(clients.body.items.map((client) => client.numeroClient)).toEqual(['EU1-1']);

    const admin = await app.login(ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.password);
    const unknown = await app.request('/societes', {
      method: 'POST',
      token: admin,
      body: { code: 'NOWHERE2', nom: 'Nowhere', server: 'eu9' },
    });
    expect(unknown.status).toBe(400);
    for (const where of ['default', eu1, eu2] as const)
      expect(await existsOn(where, database('NOWHERE2'))).toBe(false);
    const created = await app.request('/societes', {
      method: 'POST',
      token: admin,
      body: { code: 'DELTA', nom: 'Delta', server: 'eu2' },
    });
    expect(created.status).toBe(201);
    expect(await existsOn(eu2, database('DELTA'))).toBe(true);
    expect(await existsOn('default', database('DELTA'))).toBe(false);
    await app.stop();
    app = undefined;
  });

  it('db:status shows each server: reachable, version, tenants, sizes, connections, sociétés', async () => {
    const result = await runNpmScript('db:status', ['--json'], env());
    expect(result.code).toBe(0);
    const servers = parseJson<{ servers: ServerStatus[] }>(result).servers;
    const byName = new Map(servers.map((server) => [server.name, server]));
    expect([...byName.keys()].sort()).toEqual(['default', 'eu1', 'eu2']);
    expect(byName.get('eu1')).toMatchObject({ reachable: true, port: eu1.port, tenantCount: 2 });
    expect(byName.get('eu1')?.version).toMatch(/^\d+\.\d+/);
    expect(byName.get('eu1')?.tenantSizeBytes).toBeGreaterThan(0);
    expect(
      byName
        .get('eu1')
        ?.societes.map((societe) => societe.code)
        .sort(),
    ).toEqual(['ALPHA', 'ALPHB']);
    expect(
      byName
        .get('eu2')
        ?.societes.map((societe) => societe.code)
        .sort(),
    ).toEqual(['BETA', 'DELTA']);
    expect(
      byName
        .get('default')
        ?.societes.map((societe) => societe.code)
        .sort(),
    ).toEqual(['GAMMA', 'TOPSTEEL']);
    expect(byName.get('eu2')?.societes.every((societe) => societe.exists)).toBe(true);
  });

  it('fans a tenant migration out over every server; a stopped server fails its sociétés only', async () => {
    mkdirSync(join(extraDir, 'tenant'), { recursive: true });
    writeFileSync(join(extraDir, 'tenant', '002-add-client-rating.js'), MIGRATION);
    await eu2.stop();
    try {
      const result = await runNpmScript('db:migrate', ['--json'], env({ MIGRATIONS_EXTRA_DIR: extraDir }));
      expect(result.code).toBe(1);
      const report = parseJson<{ migrations: SchemaFanOutReport }>(result).migrations;
      const failed = report.databases.filter((entry) => entry.status === 'failed');
      expect(failed.map((entry) => [entry.societe, entry.server]).sort()).toEqual([
        ['BETA', 'eu2'],
        ['DELTA', 'eu2'],
      ]);
      expect(failed.every((entry) => entry.error?.includes('eu2'))).toBe(true);
      expect(result.stderr).toContain('BETA');
      for (const code of ['ALPHA', 'ALPHB']) expect(await hasRating(eu1, database(code))).toBe(true);
      for (const code of ['GAMMA', 'TOPSTEEL']) expect(await hasRating('default', database(code))).toBe(true);
      expect(report.peakPerServer.eu1).toBeLessThanOrEqual(2);

      const status = await runNpmScript('db:status', ['--json'], env());
      expect(status.code).toBe(0);
      const down = parseJson<{ servers: ServerStatus[] }>(status).servers.find(
        (server) => server.name === 'eu2',
      );
      expect(down).toMatchObject({ reachable: false, tenantCount: 2 });
      expect(down?.societes.map((societe) => societe.code).sort()).toEqual(['BETA', 'DELTA']);
    } finally {
      await eu2.start();
    }
    const again = await runNpmScript('db:migrate', ['--json'], env({ MIGRATIONS_EXTRA_DIR: extraDir }));
    expect(again.code).toBe(0);
    expect(await hasRating(eu2, database('BETA'))).toBe(true);
    expect(await hasRating(eu2, database('DELTA'))).toBe(true);
  });

  it('db:backup dumps every tenant on every server and records each server by name', async () => {
    const result = await runNpmScript('db:backup', ['--json'], env());
    expect(result.code).toBe(0);
    const backup = parseJson<{ path: string; manifest: { databases: { database: string; file: string }[] } }>(
      result,
    );
    const dumped = backup.manifest.databases.map((entry) => entry.database);
    for (const code of ['ALPHA', 'ALPHB', 'BETA', 'DELTA', 'GAMMA', 'TOPSTEEL'])
      expect(dumped).toContain(database(code));
    for (const entry of backup.manifest.databases)
      expect(existsSync(join(backup.path, entry.file))).toBe(true);
    // The manifest on disk, as a restore reads it: the server's declared name, never its address.
    const manifest = JSON.parse(readFileSync(join(backup.path, 'manifest.json'), 'utf8')) as {
      databases: { database: string; server: string | null }[];
    };
    const servers = new Map(manifest.databases.map((entry) => [entry.database, entry.server]));
    expect(
      ['ALPHA', 'ALPHB', 'BETA', 'DELTA', 'GAMMA', 'TOPSTEEL'].map((code) => servers.get(database(code))),
    ).toEqual(['eu1', 'eu1', 'eu2', 'eu2', 'default', 'default']);
    expect(servers.get(environment.names.auth)).toBe('default');
    expect(servers.get(environment.names.monolith)).toBe('default');
    expect(result.stdout + result.stderr).not.toContain(EU1_PASSWORD);
  });

  it('db:verify checks the sociétés on every server', async () => {
    const result = await runNpmScript('db:verify', ['--json'], env());
    expect({ code: result.code, stdout: result.stdout }).toMatchObject({ code: 0 });
    const checks = parseJson<{ checks: { id: string; ok: boolean; label: string }[] }>(result).checks;
    expect(checks.find((check) => check.id === 'other-tenants')).toMatchObject({ ok: true });
  });

  it('rollback refuses before dropping anything when the role on an extra server does not own its databases', async () => {
    // An operator role on eu2 that can read the sociétés' databases but owns none of them.
    const operatorPassword = 'eu2-operator-password-3d9e';
    await onCluster(eu2, 'postgres', `CREATE ROLE topsteel_operator LOGIN PASSWORD '${operatorPassword}'`);
    await onCluster(eu2, 'postgres', 'GRANT pg_read_all_data TO topsteel_operator');
    for (const code of ['BETA', 'DELTA'])
      await onCluster(eu2, 'postgres', `GRANT CONNECT ON DATABASE "${database(code)}" TO topsteel_operator`);
    const asOperator = env({
      TENANT_SERVER_EU2_USERNAME: 'topsteel_operator',
      TENANT_SERVER_EU2_PASSWORD: operatorPassword,
    });
    try {
      const validate = await runNpmScript('db:rollback:validate', ['--json'], asOperator);
      expect(validate.code).toBe(1);
      const { checks } = parseJson<{ validation: { checks: { id: string; ok: boolean; detail: string }[] } }>(
        validate,
      ).validation;
      const privileges = checks.find((check) => check.id === 'privileges');
      expect(privileges?.ok).toBe(false);
      expect(privileges?.detail).toContain('topsteel_operator does not own');
      expect(privileges?.detail).toContain(database('BETA'));
      expect(privileges?.detail).toContain('eu2');

      const rollback = await runNpmScript('db:rollback', ['--yes', '--accept-data-loss'], asOperator);
      expect(rollback.code).toBe(1);
      expect(rollback.stderr).toContain('topsteel_operator does not own');
      expect(rollback.stdout + rollback.stderr).not.toContain(operatorPassword);
    } finally {
      for (const code of ['BETA', 'DELTA'])
        await onCluster(
          eu2,
          'postgres',
          `REVOKE CONNECT ON DATABASE "${database(code)}" FROM topsteel_operator`,
        );
      await onCluster(eu2, 'postgres', 'REVOKE pg_read_all_data FROM topsteel_operator');
      await onCluster(eu2, 'postgres', 'DROP ROLE topsteel_operator');
    }
    // Nothing was dropped, on any server.
    expect(await existsOn(eu1, database('ALPHA'))).toBe(true);
    expect(await existsOn(eu2, database('BETA'))).toBe(true);
    expect(await existsOn('default', database('GAMMA'))).toBe(true);
    expect(await existsOn('default', environment.names.auth)).toBe(true);
  });

  it('rollback refuses before dropping anything while a server is down, then drops on every server', async () => {
    await eu1.stop();
    try {
      const validate = await runNpmScript('db:rollback:validate', [], env());
      expect(validate.code).not.toBe(0);
      const rollback = await runNpmScript('db:rollback', ['--yes'], env());
      expect(rollback.code).not.toBe(0);
      expect(rollback.stdout + rollback.stderr).toContain('eu1');
    } finally {
      await eu1.start();
    }
    expect(await existsOn(eu1, database('ALPHA'))).toBe(true);
    expect(await existsOn(eu2, database('BETA'))).toBe(true);
    expect(await existsOn('default', database('GAMMA'))).toBe(true);
    expect(await existsOn('default', environment.names.auth)).toBe(true);

    // Sociétés and rows were added after the split: they survive in the pre-drop dumps only.
    const rollback = await runNpmScript('db:rollback', ['--yes', '--accept-data-loss', '--json'], env());
    expect({ code: rollback.code, stderr: rollback.stderr, stdout: rollback.stdout }).toMatchObject({
      code: 0,
    });
    for (const code of ['ALPHA', 'ALPHB']) expect(await existsOn(eu1, database(code))).toBe(false);
    for (const code of ['BETA', 'DELTA']) expect(await existsOn(eu2, database(code))).toBe(false);
    expect(await existsOn('default', database('GAMMA'))).toBe(false);
    expect(await existsOn('default', environment.names.auth)).toBe(false);
    expect(await existsOn('default', environment.names.monolith)).toBe(true);
  });
});
