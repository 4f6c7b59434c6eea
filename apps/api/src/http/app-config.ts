import { Environment, EnvironmentReader } from '../database/config/environment-reader';
import { Secret } from '../common/secrets/secret';
import { DataMode } from '../modules/database/data-mode.service';

/** The HTTP app's own variables; the database ones come from the shared database configuration. */
export type AppConfig = {
  port: number;
  host: string;
  mode: DataMode;
  jwtSecret: Secret;
  /** The key being rotated out: tokens it signed are still accepted, new ones use jwtSecret. */
  jwtPreviousSecret: Secret | null;
  tokenTtlSeconds: number;
  /** Bearer of GET /metrics; the route is off when unset. */
  metricsToken?: Secret;
  login: LoginLimits;
};

/** Login throttling (issue 14): figures documented in docs/security.md. */
export type LoginLimits = {
  /** Failed logins for one e-mail address within the window before 429 (a success resets it). */
  maxFailuresPerEmail: number;
  /** Failed logins from one client address within the window before 429 (any e-mail). */
  maxFailuresPerAddress: number;
  failureWindowSeconds: number;
  /** bcrypt comparisons running at once; more wait in a bounded queue, beyond it 429. */
  maxConcurrentHashes: number;
  maxQueuedHashes: number;
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
  const previous = reader.raw('JWT_PREVIOUS_SECRET')?.trim()
    ? (reader.raw('JWT_PREVIOUS_SECRET') ?? '')
    : null;
  if (previous !== null && previous.length < MIN_JWT_SECRET_LENGTH)
    reader.problem(
      'JWT_PREVIOUS_SECRET',
      `is too short: it needs at least ${MIN_JWT_SECRET_LENGTH} characters`,
    );
  if (secret.trim() === '') {
    reader.problem(
      'JWT_SECRET',
      `is required: a random string of at least ${MIN_JWT_SECRET_LENGTH} characters that signs login tokens (e.g. openssl rand -base64 48)`,
    );
  } else if (secret.length < MIN_JWT_SECRET_LENGTH) {
    reader.problem('JWT_SECRET', `is too short: it needs at least ${MIN_JWT_SECRET_LENGTH} characters`);
  }
  const tokenTtlSeconds = reader.integer('JWT_TTL_SECONDS', 3600, 60, 604800);
  const metricsToken = reader.raw('METRICS_TOKEN')?.trim();
  if (metricsToken !== undefined && metricsToken !== '' && metricsToken.length < 16)
    reader.problem(
      'METRICS_TOKEN',
      'is too short: it needs at least 16 characters (or leave it unset to disable /metrics)',
    );
  const login: LoginLimits = {
    maxFailuresPerEmail: reader.integer('LOGIN_MAX_FAILURES_PER_EMAIL', 10, 1, 10000),
    maxFailuresPerAddress: reader.integer('LOGIN_MAX_FAILURES_PER_ADDRESS', 50, 1, 100000),
    failureWindowSeconds: reader.integer('LOGIN_FAILURE_WINDOW_SECONDS', 900, 1, 86400),
    maxConcurrentHashes: reader.integer('LOGIN_MAX_CONCURRENT_HASHES', 2, 1, 64),
    maxQueuedHashes: reader.integer('LOGIN_MAX_QUEUED_HASHES', 50, 0, 10000),
  };
  reader.assertValid();
  return {
    port,
    host,
    mode: mode as DataMode,
    jwtSecret: new Secret(secret),
    jwtPreviousSecret: previous === null ? null : new Secret(previous),
    tokenTtlSeconds,
    metricsToken: metricsToken ? new Secret(metricsToken) : undefined,
    login,
  };
}

/** Injection token of the validated AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
