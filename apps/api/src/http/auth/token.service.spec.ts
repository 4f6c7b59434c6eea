import { createHmac } from 'node:crypto';
import { loadAppConfig } from '../app-config';
import { TokenService } from './token.service';

const SECRET = 'a-test-secret-that-is-long-enough-1234';
const service = (secret = SECRET, ttl = '3600') =>
  new TokenService(loadAppConfig({ JWT_SECRET: secret, JWT_TTL_SECONDS: ttl }));
const USER = '0b9c2d3e-1f2a-4b5c-8d6e-7f8091a2b3c4';

function codeOf(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
}

describe('TokenService', () => {
  it('signs a token that it verifies, carrying the user and the société', () => {
    const { token, expiresAt } = service().sign(USER, 'ACME', 1_700_000_000_000);
    expect(expiresAt).toBe(new Date(1_700_003_600_000).toISOString());
    expect(service().verify(token, 1_700_000_001_000)).toMatchObject({ sub: USER, sid: 'ACME' });
    expect(token).not.toContain(SECRET);
  });

  it('refuses an expired token', () => {
    const { token } = service().sign(USER, null, 1_700_000_000_000);
    expect(codeOf(() => service().verify(token, 1_700_003_600_000))).toBe('TOKEN_EXPIRED');
  });

  it('refuses a token signed with another secret, tampered with, or not HS256', () => {
    const { token } = service().sign(USER, null);
    expect(codeOf(() => service('another-secret-that-is-long-enough-99').verify(token))).toBe(
      'TOKEN_INVALID',
    );
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' }),
    ).toString('base64url');
    expect(codeOf(() => service().verify(`${header}.${forged}.${signature}`))).toBe('TOKEN_INVALID');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(codeOf(() => service().verify(`${none}.${payload}.`))).toBe('TOKEN_INVALID');
    const hs512 = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
    const resigned = createHmac('sha512', SECRET).update(`${hs512}.${payload}`).digest('base64url');
    expect(codeOf(() => service().verify(`${hs512}.${payload}.${resigned}`))).toBe('TOKEN_INVALID');
    expect(codeOf(() => service().verify('garbage'))).toBe('TOKEN_INVALID');
  });
});
