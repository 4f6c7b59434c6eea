import { createServer, Server, Socket } from 'node:net';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { ACCOUNTS, ERROR_KEYS, PASSWORD, seedSecuredSplit, startApp } from './secured-app';

type ErrorBody = { statusCode: number; error: string; message: string; requestId: string };

/**
 * Issue 14, defects 1 and 2: POST /societes neither joins an existing société nor connects to a
 * host named by the caller; and every error keeps the same small JSON shape.
 */
describe('POST /societes: creating is not joining, and no host comes from a request', () => {
  const environment = TestEnvironment.create('httpsoc');
  let app: RunningApp;
  let adminToken: string;

  const memberships = () =>
    environment.query(
      environment.names.auth,
      `SELECT s.code, u.email, su.role, su.is_default
       FROM societe_users su JOIN societes s ON s.id = su.societe_id JOIN users u ON u.id = su.user_id
       ORDER BY s.code, u.email`,
    );
  const societeCodes = async () =>
    (
      await environment.query<{ code: string }>(
        environment.names.auth,
        'SELECT code FROM societes ORDER BY code',
      )
    ).map((row) => row.code);

  beforeAll(async () => {
    await seedSecuredSplit(environment);
    app = await startApp(environment);
    adminToken = await app.login(ACCOUNTS.admin.email, PASSWORD);
  });

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it("answers 409 to an existing code in any case, and the caller gets no access to that société's data", async () => {
    const before = await memberships();
    for (const code of ['acme', 'ACME', 'Acme']) {
      const response = await app.request<ErrorBody>('/societes', {
        token: adminToken,
        body: { code, nom: 'x' },
      });
      expect(response.status).toBe(409);
      expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
      expect(response.body.message).not.toContain(environment.prefix);
    }
    expect(await memberships()).toEqual(before);
    const read = await app.request('/tenant/clients', { token: adminToken, societe: 'ACME' });
    expect(read.status).toBe(403);
  });

  it('never rewrites the role of an existing member (a global ADMIN who is a plain member of ACME)', async () => {
    const before = await memberships();
    const token = await app.login(ACCOUNTS.acmeMember.email, PASSWORD);
    const response = await app.request('/societes', { token, body: { code: 'acme', nom: 'Acme' } });
    expect(response.status).toBe(409);
    expect(await memberships()).toEqual(before);
    expect(before).toContainEqual(
      expect.objectContaining({ code: 'ACME', email: ACCOUNTS.acmeMember.email, role: 'member' }),
    );
  });

  describe('with a fake PostgreSQL server listening for the password', () => {
    let fake: Server;
    let port: number;
    const connections: Socket[] = [];

    beforeAll(async () => {
      fake = createServer((socket) => {
        connections.push(socket);
        socket.destroy();
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      port = (fake.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

    it.each([
      ['host and port', { host: '127.0.0.1' }, true],
      ['a port', {}, true],
      ['a host', { host: 'localhost' }, false],
    ])('answers 400 to a body naming %s, and nothing connects anywhere', async (_label, extra, withPort) => {
      const body = { code: 'EVIL', nom: 'Evil', ...extra, ...(withPort ? { port } : {}) };
      const response = await app.request<ErrorBody>('/societes', { token: adminToken, body });
      expect(response.status).toBe(400);
      expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
      expect(connections).toHaveLength(0);
      expect(await societeCodes()).toEqual(['ACME', 'TOPSTEEL']);
      expect(await environment.databaseExists(`${environment.prefix}_evil`)).toBe(false);
    });
  });

  it('places a new société on the default server, and refuses any other server name', async () => {
    const unknown = await app.request<ErrorBody>('/societes', {
      token: adminToken,
      body: { code: 'PARIS', nom: 'Paris', server: 'paris' },
    });
    expect(unknown.status).toBe(400);
    expect(await societeCodes()).toEqual(['ACME', 'TOPSTEEL']);
    expect(await environment.databaseExists(`${environment.prefix}_paris`)).toBe(false);

    const before = await memberships();
    const created = await app.request<{ created: boolean; societe: { code: string } }>('/societes', {
      token: adminToken,
      body: { code: 'newco', nom: 'NewCo', server: 'default' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ created: true, societe: { code: 'NEWCO' } });
    expect(await environment.databaseExists(`${environment.prefix}_newco`)).toBe(true);
    const [row] = await environment.query(
      environment.names.auth,
      "SELECT database_host, database_port FROM societes WHERE code = 'NEWCO'",
    );
    expect(row).toEqual({ database_host: null, database_port: null });
    // The creator administers what it created, and nothing else changed.
    expect(await memberships()).toEqual(
      [...before, { code: 'NEWCO', email: ACCOUNTS.admin.email, role: 'admin', is_default: false }].sort(
        (a, b) =>
          String(a.code).localeCompare(String(b.code)) || String(a.email).localeCompare(String(b.email)),
      ),
    );
    const again = await app.request('/societes', {
      token: adminToken,
      body: { code: 'NEWCO', nom: 'NewCo' },
    });
    expect(again.status).toBe(409);
  });

  it('answers every client and server error in one small JSON shape, without internals', async () => {
    const operator = await app.login(ACCOUNTS.operator.email, PASSWORD);
    const answers = [
      await app.request('/no/such/route', { token: adminToken }),
      await app.request('/societes'),
      await app.request('/societes', { token: operator, body: { code: 'X', nom: 'X' } }),
      await app.request('/tenant/clients', { token: adminToken, societe: 'ACME' }),
      await app.request('/tenant/clients?limit=5000', { token: adminToken }),
      await app.request('/auth/login', { body: { email: ACCOUNTS.operator.email, password: 'wrong' } }),
      await app.request('/societes', { token: adminToken, body: { code: 'bad-code', nom: 'X' } }),
      await app.request('/societes', { token: adminToken, body: { code: 'FOO', nom: 'x', extra: 1 } }),
    ];
    const broken = await fetch(`${app.baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    const brokenBody = (await broken.json()) as Record<string, unknown>;
    for (const [index, body] of [...answers.map((answer) => answer.body), brokenBody].entries()) {
      expect([index, Object.keys(body).sort()]).toEqual([index, ERROR_KEYS]);
      const text = JSON.stringify(body);
      for (const internal of [environment.prefix, 'DB_TENANT_PREFIX', 'SELECT', 'stack', '.ts:', '.js:'])
        expect([index, text]).not.toEqual([index, expect.stringContaining(internal)]);
    }
    expect(answers.map((answer) => answer.status)).toEqual([404, 401, 403, 403, 400, 401, 400, 400]);
  });

  it('lets only an admin of the société add members, not a global ADMIN who does not belong to it', async () => {
    const before = await memberships();
    const intruder = await app.request<ErrorBody>('/societes/acme/members', {
      token: adminToken,
      body: { email: ACCOUNTS.admin.email, role: 'admin' },
    });
    expect(intruder.status).toBe(403);
    expect(Object.keys(intruder.body).sort()).toEqual(ERROR_KEYS);
    const member = await app.login(ACCOUNTS.acmeMember.email, PASSWORD);
    const plain = await app.request('/societes/ACME/members', {
      token: member,
      body: { email: ACCOUNTS.acmeMember.email, role: 'admin' },
    });
    expect(plain.status).toBe(403);
    expect(await memberships()).toEqual(before);

    const acmeAdmin = await app.login(ACCOUNTS.acmeAdmin.email, PASSWORD);
    const added = await app.request('/societes/ACME/members', {
      token: acmeAdmin,
      body: { email: ACCOUNTS.operator.email },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ added: true, societe: 'ACME', role: 'member' });
    const operator = await app.login(ACCOUNTS.operator.email, PASSWORD);
    expect((await app.request('/tenant/clients', { token: operator, societe: 'ACME' })).status).toBe(200);
  });
});
