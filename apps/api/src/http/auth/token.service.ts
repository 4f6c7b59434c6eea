import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { APP_CONFIG, AppConfig } from '../app-config';

export type TokenClaims = {
  /** The user id. */
  sub: string;
  /** The société chosen at login (id, or code in monolith mode), or null. Membership is re-checked on use. */
  sid: string | null;
  iat: number;
  exp: number;
};

const ISSUER = 'topsteel';
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(text: string | Buffer): string {
  return Buffer.from(text).toString('base64url');
}

/**
 * Compact HS256 JWTs signed with JWT_SECRET. Verification accepts exactly our header (no "none", no
 * algorithm switching), compares signatures in constant time and requires an unexpired `exp`. Kept
 * in-house (node:crypto) because this is all the app needs from a JWT library.
 */
@Injectable()
export class TokenService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  sign(subject: string, societe: string | null, now = Date.now()): { token: string; expiresAt: string } {
    const iat = Math.floor(now / 1000);
    const exp = iat + this.config.tokenTtlSeconds;
    const payload = base64url(JSON.stringify({ iss: ISSUER, sub: subject, sid: societe, iat, exp }));
    const signed = `${HEADER}.${payload}`;
    return { token: `${signed}.${this.signature(signed)}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  verify(token: string, now = Date.now()): TokenClaims {
    const invalid = () => new AccessException(AccessExceptionCode.TokenInvalid, 'invalid token');
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 4096 || parts[0] !== HEADER) throw invalid();
    const expected = Buffer.from(this.signature(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalid();
    }
    const { iss, sub, sid, iat, exp } = claims;
    if (
      iss !== ISSUER ||
      typeof sub !== 'string' ||
      (sid !== null && typeof sid !== 'string') ||
      typeof iat !== 'number' ||
      typeof exp !== 'number'
    ) {
      throw invalid();
    }
    if (exp * 1000 <= now)
      throw new AccessException(AccessExceptionCode.TokenExpired, 'the token has expired');
    return { sub, sid, iat, exp };
  }

  private signature(signed: string): string {
    return createHmac('sha256', this.config.jwtSecret.reveal()).update(signed).digest('base64url');
  }
}
