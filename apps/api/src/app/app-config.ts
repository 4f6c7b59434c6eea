import { Environment } from '../database/config/multi-tenant-database.config';
import { ConfigException, ConfigExceptionCode, ConfigProblem } from '../database/config/config.exception';
import { Secret } from '../common/secrets/secret';

/** Which databases the app reads: the split ones, or the monolith after a rollback (no code edit). */
export type DataMode = 'monolith' | 'multi-tenant';

/** The HTTP app's own variables; the database ones come from the shared database configuration. */
export type AppConfig = {
  port: number;
  host: string;
  mode: DataMode;
  jwtSecret: Secret;
  tokenTtlSeconds: number;
};

export const MIN_JWT_SECRET_LENGTH = 32;
const HOST = /^[A-Za-z0-9._:%[\]-]{1,255}$/;

/**
 * Validates the app's variables and reports every problem at once, naming the variable and never
 * repeating its value (JWT_SECRET is a secret; a mistyped PORT might be one too).
 */
export function loadAppConfig(env: Environment): AppConfig {
  const problems: ConfigProblem[] = [];
  const text = (variable: string, fallback: string): string => {
    const value = env[variable]?.trim();
    return value === undefined || value === '' ? fallback : value;
  };
  const integer = (variable: string, fallback: number, minimum: number, maximum: number): number => {
    const raw = text(variable, String(fallback));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < minimum || value > maximum) {
      problems.push({ variable, reason: `must be an integer between ${minimum} and ${maximum}` });
      return fallback;
    }
    return value;
  };

  const port = integer('PORT', 3000, 1, 65535);
  const host = text('HOST', '0.0.0.0');
  if (!HOST.test(host)) problems.push({ variable: 'HOST', reason: 'must be a host name or an IP address' });
  const modeRaw = text('DB_MODE', 'multi-tenant').toLowerCase();
  if (modeRaw !== 'monolith' && modeRaw !== 'multi-tenant')
    problems.push({ variable: 'DB_MODE', reason: 'must be monolith or multi-tenant' });
  const secret = env.JWT_SECRET ?? '';
  if (secret.trim() === '') {
    problems.push({
      variable: 'JWT_SECRET',
      reason: `is required: a random string of at least ${MIN_JWT_SECRET_LENGTH} characters that signs login tokens (e.g. openssl rand -base64 48)`,
    });
  } else if (secret.length < MIN_JWT_SECRET_LENGTH) {
    problems.push({
      variable: 'JWT_SECRET',
      reason: `is too short: it needs at least ${MIN_JWT_SECRET_LENGTH} characters`,
    });
  }
  const tokenTtlSeconds = integer('JWT_TTL_SECONDS', 3600, 60, 604800);

  if (problems.length > 0) {
    const lines = problems.map((problem) => `  ${problem.variable}: ${problem.reason}`).join('\n');
    throw new ConfigException(
      ConfigExceptionCode.InvalidEnvironment,
      `invalid configuration:\n${lines}`,
      problems,
    );
  }
  return {
    port,
    host,
    mode: modeRaw as DataMode,
    jwtSecret: new Secret(secret),
    tokenTtlSeconds,
  };
}

/** Injection token of the validated AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
