import { JwtService } from '@nestjs/jwt';
import { DEMO_ACCOUNT } from '@topsteel/legacy-fixture';
import { RunningApp, TEST_JWT_SECRET } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { ACCOUNTS, PASSWORD, seedSecuredSplit, startApp } from './secured-app';

type Claims = Record<string, unknown> & { iat: number; exp: number };

const NEXT_SECRET = 'the-next-test-only-jwt-secret-0123456789';

/** Issue 14, defect 5: tokens are HS256 JWTs with issuer and audience, refused once stale. */
describe('login tokens', () => {
  const environment = TestEnvironment.create('httptokens');
  const jwt = new JwtService({});
  let app: RunningApp;

  const decode = (token: string) => jwt.decode<Claims>(token);
  const header = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as Record<string, unknown>;
  const statusWith = async (token: string) => (await app.request('/societes', { token })).status;
  /** The claims of a real token, changed and re-signed with the app's own secret. */
  const resign = (token: string, change: Partial<Claims>, options: { algorithm?: 'HS256' | 'HS512' } = {}) =>
    jwt.sign(
      { ...decode(token), ...change },
      {
        secret: TEST_JWT_SECRET,
        algorithm: options.algorithm ?? 'HS256',
        ...(header(token).kid ? { keyid: String(header(token).kid) } : {}),
      },
    );
  const setUser = (email: string, assignment: string, parameters: unknown[] = []) =>
    environment.query(environment.names.auth, `UPDATE users SET ${assignment} WHERE email = $1`, [
      email,
      ...parameters,
    ]);

  beforeAll(async () => {
    await seedSecuredSplit(environment);
    app = await startApp(environment);
  });

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('issues HS256 tokens with an issuer and an audience, and checks both', async () => {
    const token = await app.login(ACCOUNTS.admin.email, PASSWORD);
    expect(header(token).alg).toBe('HS256');
    const claims = decode(token);
    expect(claims).toMatchObject({ iss: 'topsteel', aud: 'topsteel-api' });
    expect(typeof claims.sub).toBe('string');
    expect(await statusWith(token)).toBe(200);
    expect(await statusWith(resign(token, { aud: 'another-api' }))).toBe(401);
    expect(await statusWith(resign(token, { iss: 'someone-else' }))).toBe(401);
    expect(await statusWith(resign(token, {}, { algorithm: 'HS512' }))).toBe(401);
    const [, payload] = token.split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(await statusWith(`${none}.${payload}.`)).toBe(401);
  });

  it('refuses a token whose iat is in the future', async () => {
    const token = await app.login(ACCOUNTS.admin.email, PASSWORD);
    const claims = decode(token);
    expect(await statusWith(resign(token, { iat: claims.iat + 3600, exp: claims.exp + 3600 }))).toBe(401);
  });

  it("refuses a token issued before the user's password changed", async () => {
    const token = await app.login(ACCOUNTS.acmeAdmin.email, PASSWORD);
    expect(await statusWith(token)).toBe(200);
    await setUser(ACCOUNTS.acmeAdmin.email, 'password = $2', [DEMO_ACCOUNT.hash]);
    expect(await statusWith(token)).toBe(401);
    const fresh = await app.login(ACCOUNTS.acmeAdmin.email, DEMO_ACCOUNT.password);
    expect(await statusWith(fresh)).toBe(200);
  });

  it.each([
    ['deactivated', 'actif = false'],
    ['soft-deleted', 'deleted_at = now()'],
  ])('refuses a token of a user since %s', async (_label, assignment) => {
    const email = `${assignment.split(' ')[0]}@topsteel.fr`;
    await environment.query(
      environment.names.auth,
      'INSERT INTO users (nom, prenom, email, password, role) SELECT nom, prenom, $1, password, role FROM users WHERE email = $2',
      [email, ACCOUNTS.operator.email],
    );
    const token = await app.login(email, PASSWORD);
    expect(await statusWith(token)).toBe(200);
    await setUser(email, assignment);
    expect(await statusWith(token)).toBe(401);
  });

  it('accepts tokens of the previous key during a rotation (JWT_PREVIOUS_SECRET), and only then', async () => {
    const old = await app.login(ACCOUNTS.admin.email, PASSWORD);
    const rotated = await startApp(environment, {
      JWT_SECRET: NEXT_SECRET,
      JWT_PREVIOUS_SECRET: TEST_JWT_SECRET,
    });
    const after = await startApp(environment, { JWT_SECRET: NEXT_SECRET });
    try {
      expect((await rotated.request('/societes', { token: old })).status).toBe(200);
      const fresh = await rotated.login(ACCOUNTS.admin.email, PASSWORD);
      expect(header(fresh).kid).not.toEqual(header(old).kid);
      expect((await after.request('/societes', { token: fresh })).status).toBe(200);
      expect((await after.request('/societes', { token: old })).status).toBe(401);
    } finally {
      await rotated.stop();
      await after.stop();
    }
  });
});
