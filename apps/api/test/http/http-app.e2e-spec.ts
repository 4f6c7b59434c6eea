import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PageResult } from '../../src/common/pagination/page';
import { runNpmScript } from '../../../../test/harness/cli';
import { RunningApp, TEST_JWT_SECRET } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from './split-fixture';

type Page = PageResult<Record<string, unknown>>;
type ErrorBody = { statusCode: number; error: string; message: string; requestId: string };

const JEAN = 'jean.dupont@topsteel.fr';

/**
 * The app after a real split (npm run db:migrate), as a child process: legacy login, tenant
 * routing to the migrated data, shared data, isolation, société creation, health, logs, and the
 * same endpoints on the monolith (DB_MODE).
 */
describe('HTTP app', () => {
  const environment = TestEnvironment.create('httpapp');
  let fixture: SplitFixture;
  let app: RunningApp;
  let adminToken: string;
  const monolith = () => environment.names.monolith;
  const tenantDatabase = (code: string) => `${environment.prefix}_${code}`;

  beforeAll(async () => {
    // The real guide: a generated monolith, split by db:migrate, a second société by db:societe:create.
    await environment.createMonolith();
    const migrate = await runNpmScript('db:migrate', [], environment.env());
    expect(migrate.code).toBe(0);
    const acmeCreated = await runNpmScript('db:societe:create', ['ACME', 'Acme'], environment.env());
    expect(acmeCreated.code).toBe(0);
    fixture = await SplitFixture.attach(environment);
    const [acme] = await environment.query<{ id: string }>(
      environment.names.auth,
      "SELECT id FROM societes WHERE code = 'ACME'",
    );
    await environment.query(
      tenantDatabase('acme'),
      "INSERT INTO clients (nom, numero_client, societe_id) VALUES ('Acme client 1', 'ACME-1', $1), ('Acme client 2', 'ACME-2', $1)",
      [acme.id],
    );
    // The split linked every user to TOPSTEEL; Jean moves to ACME only, to test isolation both ways.
    await environment.query(
      environment.names.auth,
      'DELETE FROM societe_users WHERE user_id = (SELECT id FROM users WHERE email = $1)',
      [JEAN],
    );
    await fixture.addMember('ACME', JEAN, { isDefault: true });
    app = await RunningApp.start(environment.env());
    adminToken = await app.login(ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.password);
  });

  afterAll(async () => {
    await app?.stop();
    await fixture?.close();
    await environment.cleanup();
  });

  const monolithCount = async (sql: string): Promise<number> =>
    Number((await environment.query<{ count: string }>(monolith(), sql))[0].count);

  it('logs in with the legacy password and returns a token for the default société', async () => {
    const response = await app.request<{
      accessToken: string;
      tokenType: string;
      user: { email: string; role: string };
      societe: { code: string };
      societes: { code: string }[];
    }>('/auth/login', { body: { email: ADMIN_ACCOUNT.email, password: ADMIN_ACCOUNT.password } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      tokenType: 'Bearer',
      user: { email: ADMIN_ACCOUNT.email, role: 'ADMIN' },
      societe: { code: 'TOPSTEEL' },
    });
    expect(response.body.societes.map((societe) => societe.code)).toEqual(['TOPSTEEL']);
    const [user] = await environment.query<{ password: string }>(
      environment.names.auth,
      'SELECT password FROM users WHERE email = $1',
      [ADMIN_ACCOUNT.email],
    );
    expect(user.password).toBe(ADMIN_ACCOUNT.hash);
  });

  it.each([
    ['a wrong password', { email: ADMIN_ACCOUNT.email, password: 'wrong' }],
    ['an unknown user', { email: 'nobody@topsteel.fr', password: ADMIN_ACCOUNT.password }],
    ['a deleted user', { email: 'ancien.employe@topsteel.fr', password: ADMIN_ACCOUNT.password }],
    ['an empty legacy password', { email: 'legacy.import@topsteel.fr', password: 'x' }],
  ])('refuses %s with 401', async (_label, body) => {
    const response = await app.request<ErrorBody>('/auth/login', { body });
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('INVALID_CREDENTIALS');
  });

  it('answers 400 to a malformed login body', async () => {
    expect((await app.request('/auth/login', { body: { email: 42 } })).status).toBe(400);
    const broken = await fetch(`${app.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(broken.status).toBe(400);
  });

  it('answers 401 without a valid token', async () => {
    for (const path of ['/tenant/clients', '/societes', '/shared/materials']) {
      expect((await app.request(path)).status).toBe(401);
      expect((await app.request(path, { token: 'not.a.token' })).status).toBe(401);
    }
    const forged = adminToken.slice(0, -2) + (adminToken.endsWith('AA') ? 'BB' : 'AA');
    expect((await app.request('/tenant/clients', { token: forged })).status).toBe(401);
  });

  it("reads the société's migrated clients, page by page", async () => {
    const expected = await monolithCount('SELECT count(*) FROM clients WHERE deleted_at IS NULL');
    const first = await app.request<Page>('/tenant/clients', { token: adminToken });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(Math.min(50, expected));
    let seen = 0;
    for (let offset: number | null = 0; offset !== null;) {
      const page: { body: Page } = await app.request<Page>(`/tenant/clients?limit=500&offset=${offset}`, {
        token: adminToken,
      });
      seen += page.body.items.length;
      offset = page.body.nextOffset;
    }
    expect(seen).toBe(expected);
    expect((await app.request('/tenant/clients?limit=5000', { token: adminToken })).status).toBe(400);
    expect((await app.request('/tenant/clients?offset=-3', { token: adminToken })).status).toBe(400);
  });

  it('reads commandes with exact amounts', async () => {
    const response = await app.request<Page>('/tenant/commandes?limit=5', {
      token: adminToken,
      societe: 'TOPSTEEL',
    });
    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(5);
    const [first] = response.body.items;
    expect(typeof first.numero).toBe('string');
    expect(first.montantTtc).toMatch(/^\d+\.\d{2}$/);
  });

  it('reads the shared materials', async () => {
    const response = await app.request<Page>('/shared/materials?limit=500', { token: adminToken });
    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(
      await monolithCount('SELECT count(*) FROM materiaux WHERE deleted_at IS NULL'),
    );
  });

  it('answers 403 for a société the user is not a member of, and isolates members of another', async () => {
    const forbidden = await app.request<ErrorBody>('/tenant/clients', { token: adminToken, societe: 'ACME' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe('NOT_A_MEMBER');
    expect((await app.request('/tenant/clients', { token: adminToken, societe: 'NOSUCH' })).status).toBe(403);
    const jean = await app.login(JEAN, ADMIN_ACCOUNT.password);
    const own = await app.request<Page>('/tenant/clients', { token: jean });
    expect(own.body.items.map((client) => client.numeroClient).sort()).toEqual(['ACME-1', 'ACME-2']);
    expect((await app.request('/tenant/clients', { token: jean, societe: 'TOPSTEEL' })).status).toBe(403);
    const [topsteel] = await environment.query<{ id: string }>(
      environment.names.auth,
      "SELECT id FROM societes WHERE code = 'TOPSTEEL'",
    );
    expect((await app.request('/tenant/commandes', { token: jean, societe: topsteel.id })).status).toBe(403);
    const login = await app.request('/auth/login', {
      body: { email: JEAN, password: ADMIN_ACCOUNT.password, societe: 'TOPSTEEL' },
    });
    expect(login.status).toBe(403);
  });

  it("lists the user's sociétés", async () => {
    const response = await app.request<{ societes: { code: string; isDefault: boolean }[] }>('/societes', {
      token: adminToken,
    });
    expect(response.body.societes).toEqual([expect.objectContaining({ code: 'TOPSTEEL', isDefault: true })]);
  });

  it('creates a société through the API: ADMIN only, a real database with the tenant tables, 409 when it exists', async () => {
    const jean = await app.login(JEAN, ADMIN_ACCOUNT.password);
    const refused = await app.request<ErrorBody>('/societes', {
      token: jean,
      body: { code: 'NEWCO', nom: 'NewCo' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('ADMIN_REQUIRED');
    expect(
      (await app.request('/societes', { token: adminToken, body: { code: 'new-co', nom: 'X' } })).status,
    ).toBe(400);

    const created = await app.request<{ created: boolean; societe: { code: string; database: string } }>(
      '/societes',
      {
        token: adminToken,
        body: { code: 'newco', nom: 'NewCo' },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      created: true,
      societe: { code: 'NEWCO', database: tenantDatabase('newco') },
    });
    expect(await environment.databaseExists(tenantDatabase('newco'))).toBe(true);
    const tables = await environment.query(
      tenantDatabase('newco'),
      "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('clients', 'commandes', 'produits')",
    );
    expect(tables).toHaveLength(3);
    const again = await app.request<ErrorBody>('/societes', {
      token: adminToken,
      body: { code: 'NEWCO', nom: 'NewCo' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('SOCIETE_CONFLICT');
    const empty = await app.request<Page>('/tenant/clients', { token: adminToken, societe: 'NEWCO' });
    expect(empty.status).toBe(200);
    expect(empty.body.items).toEqual([]);
  });

  it('reports every database, the open tenant DataSources and the connections on /health/details', async () => {
    expect((await app.request('/health')).body).toEqual({
      status: 'ok',
      mode: 'multi-tenant',
      version: '1.0.0',
    });
    const response = await app.request<{
      status: string;
      databases: { name: string; kind: string; reachable: boolean; connections: number | null }[];
      tenantDataSources: { open: number; max: number };
    }>('/health/details', { token: adminToken });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(
      response.body.databases.map((database) => [database.kind, database.name, database.reachable]),
    ).toEqual([
      ['auth', environment.names.auth, true],
      ['shared', environment.names.shared, true],
      ['tenant', tenantDatabase('acme'), true],
      ['tenant', tenantDatabase('newco'), true],
      ['tenant', tenantDatabase('topsteel'), true],
    ]);
    expect(response.body.databases[0].connections).toBeGreaterThan(0);
    expect(response.body.tenantDataSources.open).toBeGreaterThan(0);
  });

  it('writes one JSON line per request, without tokens or passwords', () => {
    const text = readFileSync(join(environment.logDir, 'application.log'), 'utf8');
    const requests = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === 'request');
    expect(requests.length).toBeGreaterThan(20);
    const served = requests.find((entry) => entry.path === '/tenant/clients' && entry.status === 200);
    expect(served).toMatchObject({ method: 'GET', societe: 'TOPSTEEL' });
    expect(typeof served?.userId).toBe('string');
    expect(typeof served?.requestId).toBe('string');
    expect(typeof served?.durationMs).toBe('number');
    expect(requests).toContainEqual(
      expect.objectContaining({
        path: '/tenant/clients',
        status: 403,
        error: 'NOT_A_MEMBER',
        societe: 'ACME',
      }),
    );
    expect(text).not.toContain(adminToken);
    expect(text).not.toContain(ADMIN_ACCOUNT.password);
    expect(text).not.toContain(TEST_JWT_SECRET);
  });

  describe('with DB_MODE=monolith (after a rollback)', () => {
    let monolithApp: RunningApp;

    beforeAll(async () => {
      monolithApp = await RunningApp.start(environment.env({ DB_MODE: 'monolith' }));
    });
    afterAll(() => monolithApp?.stop());

    it('serves the same endpoints from the monolith, with no code change', async () => {
      const token = await monolithApp.login(ADMIN_ACCOUNT.email, ADMIN_ACCOUNT.password);
      const clients = await monolithApp.request<Page>('/tenant/clients?limit=500', { token });
      expect(clients.status).toBe(200);
      expect(clients.body.items).toHaveLength(
        Math.min(500, await monolithCount('SELECT count(*) FROM clients WHERE deleted_at IS NULL')),
      );
      expect((await monolithApp.request<Page>('/shared/materials', { token })).status).toBe(200);
      expect(
        (await monolithApp.request<Page>('/tenant/commandes', { token, societe: 'topsteel' })).status,
      ).toBe(200);
      expect((await monolithApp.request('/tenant/clients', { token, societe: 'ACME' })).status).toBe(403);
      const societes = await monolithApp.request<{ societes: { code: string }[] }>('/societes', { token });
      expect(societes.body.societes.map((societe) => societe.code)).toEqual(['TOPSTEEL']);
      const create = await monolithApp.request<ErrorBody>('/societes', {
        token,
        body: { code: 'X', nom: 'X' },
      });
      expect(create.status).toBe(409);
      expect((await monolithApp.request('/health')).body).toMatchObject({ status: 'ok', mode: 'monolith' });
      const health = await monolithApp.request<{ status: string; databases: { kind: string }[] }>(
        '/health/details',
        { token },
      );
      expect(health.body).toMatchObject({ status: 'ok', databases: [{ kind: 'monolith' }] });
    });
  });

  it('refuses to start without a valid JWT_SECRET or PORT, naming the variable and not the value', async () => {
    const error = await RunningApp.start(
      environment.env({ JWT_SECRET: 'too-short-secret', PORT: 'x' }),
    ).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('exited with 2');
    expect((error as Error).message).toContain('JWT_SECRET');
    expect((error as Error).message).not.toContain('too-short-secret');
  });
});
