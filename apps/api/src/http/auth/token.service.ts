import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Secret } from '../../common/secrets/secret';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { APP_CONFIG, AppConfig } from '../app-config';

export type TokenClaims = {
  /** The user id. */
  sub: string;
  /** The société chosen at login (id, or code in monolith mode), or null. Membership is re-checked on use. */
  sid: string | null;
  iat: number;
  exp: number;
  /** Keyed digest of the user's password hash at login: a password change invalidates the token. */
  cst: string;
  /** The key that signed it (the current one, or the one being rotated out). */
  key: Secret;
};

export const TOKEN_ISSUER = 'topsteel';
export const TOKEN_AUDIENCE = 'topsteel-api';
/** Clocks of the app's instances may differ a little; an `iat` further ahead than this is forged. */
export const MAX_CLOCK_SKEW_SECONDS = 30;
const MAX_TOKEN_LENGTH = 4096;

/** A short public name for a key, sent as `kid` so that verification picks the key without trying each. */
const keyId = (key: Secret): string =>
  createHash('sha256').update(key.reveal()).digest('base64url').slice(0, 8);

/**
 * HS256 JWTs through @nestjs/jwt (jsonwebtoken): issuer and audience checked, HS256 only (no "none",
 * no algorithm switching). Two keys during a rotation: JWT_SECRET signs, JWT_PREVIOUS_SECRET still
 * verifies what it signed (see docs/security.md). Each token carries a keyed digest of the user's
 * password hash, so that changing the password revokes every token issued before.
 */
@Injectable()
export class TokenService {
  readonly #jwt = new JwtService({});
  readonly #keys: Map<string, Secret>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.#keys = new Map([[keyId(config.jwtSecret), config.jwtSecret]]);
    if (config.jwtPreviousSecret) this.#keys.set(keyId(config.jwtPreviousSecret), config.jwtPreviousSecret);
  }

  sign(
    subject: string,
    societe: string | null,
    credentialStamp: string,
  ): { token: string; expiresAt: string } {
    const key = this.config.jwtSecret;
    const token = this.#jwt.sign(
      { sid: societe, cst: this.credentialDigest(key, credentialStamp) },
      {
        secret: key.reveal(),
        algorithm: 'HS256',
        keyid: keyId(key),
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        subject,
        expiresIn: this.config.tokenTtlSeconds,
      },
    );
    const { exp } = this.#jwt.decode<{ exp: number }>(token);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  verify(token: string, now = Date.now()): TokenClaims {
    const invalid = () => new AccessException(AccessExceptionCode.TokenInvalid, 'invalid token');
    if (token.length > MAX_TOKEN_LENGTH) throw invalid();
    const decoded = this.#jwt.decode<{ header?: { kid?: unknown } } | null>(token, { complete: true });
    const key = typeof decoded?.header?.kid === 'string' ? this.#keys.get(decoded.header.kid) : undefined;
    if (!key) throw invalid();
    let claims: Record<string, unknown>;
    try {
      claims = this.#jwt.verify<Record<string, unknown>>(token, {
        secret: key.reveal(),
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        clockTimestamp: Math.floor(now / 1000),
      });
    } catch (error) {
      if ((error as Error).name === 'TokenExpiredError')
        throw new AccessException(AccessExceptionCode.TokenExpired, 'the token has expired');
      throw invalid();
    }
    const { sub, sid, iat, exp, cst } = claims;
    if (
      typeof sub !== 'string' ||
      (sid !== null && typeof sid !== 'string') ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      typeof cst !== 'string' ||
      iat > now / 1000 + MAX_CLOCK_SKEW_SECONDS
    ) {
      throw invalid();
    }
    return { sub, sid, iat, exp, cst, key };
  }

  /** Refuses a token issued before the user's password changed. */
  assertCurrentCredentials(claims: TokenClaims, credentialStamp: string): void {
    const expected = Buffer.from(this.credentialDigest(claims.key, credentialStamp));
    const given = Buffer.from(claims.cst);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new AccessException(
        AccessExceptionCode.TokenInvalid,
        'the password changed since this token was issued',
      );
  }

  /** Keyed, so that a token (readable by anyone holding it) says nothing about the password hash. */
  private credentialDigest(key: Secret, credentialStamp: string): string {
    return createHmac('sha256', key.reveal()).update(credentialStamp).digest('base64url').slice(0, 22);
  }
}
