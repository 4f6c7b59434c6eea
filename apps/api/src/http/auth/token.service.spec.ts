import { createHmac } from 'node:crypto';
import { loadAppConfig } from '../app-config';
import { TokenService } from './token.service';

const SECRET = 'a-test-secret-that-is-long-enough-1234';
const OTHER = 'another-secret-that-is-long-enough-99';
const service = (env: Record<string, string> = {}) =>
  new TokenService(loadAppConfig({ JWT_SECRET: SECRET, ...env }));
const USER = '0b9c2d3e-1f2a-4b5c-8d6e-7f8091a2b3c4';
const STAMP = 'digest-of-the-password-hash';

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
    const { token, expiresAt } = service().sign(USER, 'ACME', STAMP);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500 * 1000);
    const claims = service().verify(token);
    expect(claims).toMatchObject({ sub: USER, sid: 'ACME' });
    expect(() => service().assertCurrentCredentials(claims, STAMP)).not.toThrow();
    expect(codeOf(() => service().assertCurrentCredentials(claims, 'another-hash'))).toBe('TOKEN_INVALID');
    expect(token).not.toContain(SECRET);
    expect(token).not.toContain(STAMP);
  });

  it('refuses an expired token, and one issued in the future', () => {
    const { token } = service().sign(USER, null, STAMP);
    expect(codeOf(() => service().verify(token, Date.now() + 3601 * 1000))).toBe('TOKEN_EXPIRED');
    expect(codeOf(() => service().verify(token, Date.now() - 120 * 1000))).toBe('TOKEN_INVALID');
  });

  it('refuses a token signed with another secret, tampered with, or not HS256', () => {
    const { token } = service().sign(USER, null, STAMP);
    expect(codeOf(() => service({ JWT_SECRET: OTHER }).verify(token))).toBe('TOKEN_INVALID');
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' }),
    ).toString('base64url');
    expect(codeOf(() => service().verify(`${header}.${forged}.${signature}`))).toBe('TOKEN_INVALID');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(codeOf(() => service().verify(`${none}.${payload}.`))).toBe('TOKEN_INVALID');
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
    const hs512 = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT', kid })).toString('base64url');
    const resigned = createHmac('sha512', SECRET).update(`${hs512}.${payload}`).digest('base64url');
    expect(codeOf(() => service().verify(`${hs512}.${payload}.${resigned}`))).toBe('TOKEN_INVALID');
    expect(codeOf(() => service().verify('garbage'))).toBe('TOKEN_INVALID');
  });

  it('verifies tokens of the previous key during a rotation, and signs with the new one', () => {
    const old = service().sign(USER, null, STAMP).token;
    const rotating = service({ JWT_SECRET: OTHER, JWT_PREVIOUS_SECRET: SECRET });
    expect(rotating.verify(old)).toMatchObject({ sub: USER });
    const fresh = rotating.sign(USER, null, STAMP).token;
    expect(service({ JWT_SECRET: OTHER }).verify(fresh)).toMatchObject({ sub: USER });
    expect(codeOf(() => service({ JWT_SECRET: OTHER }).verify(old))).toBe('TOKEN_INVALID');
  });
});
