import { Environment, EnvironmentReader } from '../database/config/environment-reader';
import { Secret } from '../common/secrets/secret';
import { DataMode } from '../modules/database/data-mode.service';

/** The HTTP app's own variables; the database ones come from the shared database configuration. */
export type AppConfig = {
  port: number;
  host: string;
  mode: DataMode;
  jwtSecret: Secret;
  tokenTtlSeconds: number;
};

export const MIN_JWT_SECRET_LENGTH = 32;

/**
 * Validates the app's variables and reports every problem at once, naming the variable and never
 * repeating its value (JWT_SECRET is a secret; a mistyped PORT might be one too).
 */
export function loadAppConfig(env: Environment): AppConfig {
  const reader = new EnvironmentReader(env);
  const port = reader.integer('PORT', 3000, 1, 65535);
  const host = reader.host('HOST', '0.0.0.0');
  const mode = reader.text('DB_MODE', 'multi-tenant').toLowerCase();
  if (mode !== 'monolith' && mode !== 'multi-tenant')
    reader.problem('DB_MODE', 'must be monolith or multi-tenant');
  const secret = reader.raw('JWT_SECRET') ?? '';
  if (secret.trim() === '') {
    reader.problem(
      'JWT_SECRET',
      `is required: a random string of at least ${MIN_JWT_SECRET_LENGTH} characters that signs login tokens (e.g. openssl rand -base64 48)`,
    );
  } else if (secret.length < MIN_JWT_SECRET_LENGTH) {
    reader.problem('JWT_SECRET', `is too short: it needs at least ${MIN_JWT_SECRET_LENGTH} characters`);
  }
  const tokenTtlSeconds = reader.integer('JWT_TTL_SECONDS', 3600, 60, 604800);
  reader.assertValid();
  return { port, host, mode: mode as DataMode, jwtSecret: new Secret(secret), tokenTtlSeconds };
}

/** Injection token of the validated AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
