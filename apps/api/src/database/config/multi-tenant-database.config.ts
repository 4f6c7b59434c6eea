import { parse as parseDotenv } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { SAFE_IDENTIFIER } from '../../common/identifiers/identifier';
import { Secret } from '../../common/secrets/secret';
import { ConfigException, ConfigExceptionCode, ConfigProblem } from './config.exception';
import { repositoryRoot } from './repository-root';

export type SslMode = false | { rejectUnauthorized: boolean };

/** The validated, typed configuration of DESIGN.md section 3. */
export type MultiTenantDatabaseConfig = {
  host: string;
  port: number;
  username: string;
  password: Secret;
  monolithDatabase: string;
  authDatabase: string;
  sharedDatabase: string;
  tenantPrefix: string;
  maintenanceDatabase: string;
  ssl: SslMode;
  connectionTimeoutMs: number;
  poolSize: number;
  tenantPoolSize: number;
  tenantMaxDataSources: number;
  tenantIdleTimeoutMs: number;
  backupDir: string;
  logDir: string;
  defaultSocieteCode: string;
  defaultSocieteName: string;
  cleanTestEmailDomains: string[];
  migrationsExtraDir?: string;
  /** Folder holding pg_dump and pg_restore; PATH when unset. */
  pgBinDir?: string;
};

export type Environment = Record<string, string | undefined>;

/** Longest société code such that `<prefix>_<code>` stays a valid database name. */
export function maxSocieteCodeLength(prefix: string): number {
  return 63 - prefix.length - 1;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const HOSTNAME = /^[A-Za-z0-9._:%[\]-]{1,255}$/;

/** Reads `.env` (unless TOPSTEEL_ENV_FILE=none) under the real environment, which wins. */
export function readEnvironment(env: Environment = process.env): Environment {
  const envFile = env.TOPSTEEL_ENV_FILE ?? join(repositoryRoot(), '.env');
  if (envFile === 'none' || !existsSync(envFile)) return { ...env };
  let fileValues: Environment;
  try {
    fileValues = parseDotenv(readFileSync(envFile));
  } catch {
    throw new ConfigException(
      ConfigExceptionCode.UnreadableEnvFile,
      `cannot read the environment file ${envFile}`,
    );
  }
  return { ...fileValues, ...env };
}

/**
 * Validates every variable and reports all problems at once. A message names the variable and what
 * is wrong; it never repeats a value, since a mistyped variable may hold a password or a URL with one.
 */
export function loadMultiTenantDatabaseConfig(
  env: Environment = readEnvironment(),
): MultiTenantDatabaseConfig {
  const problems: ConfigProblem[] = [];
  const text = (variable: string, fallback: string): string => {
    const value = env[variable];
    return value === undefined || value.trim() === '' ? fallback : value.trim();
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
  const identifier = (variable: string, fallback: string): string => {
    const value = text(variable, fallback).toLowerCase();
    if (!SAFE_IDENTIFIER.test(value)) {
      problems.push({
        variable,
        reason: `must be a safe identifier (${SAFE_IDENTIFIER.source} after lower-casing): letters, digits and underscores only`,
      });
    }
    return value;
  };
  const folder = (variable: string, fallback: string): string => {
    const value = text(variable, fallback);
    if (value.includes('\u0000')) problems.push({ variable, reason: 'must be a path' });
    return isAbsolute(value) ? value : resolve(repositoryRoot(), value);
  };

  const host = text('DB_HOST', 'localhost');
  if (!HOSTNAME.test(host))
    problems.push({ variable: 'DB_HOST', reason: 'must be a host name or an IP address (not a URL)' });
  const username = text('DB_USERNAME', 'postgres');
  if (/[\s@/:]/.test(username) || [...username].some((character) => character.charCodeAt(0) < 32))
    problems.push({ variable: 'DB_USERNAME', reason: 'must be a role name' });
  const password = env.DB_PASSWORD ?? '';

  const databases = {
    monolithDatabase: identifier('DB_NAME', 'erp_topsteel'),
    authDatabase: identifier('DB_AUTH_NAME', 'erp_topsteel_auth'),
    sharedDatabase: identifier('DB_SHARED_NAME', 'erp_topsteel_shared'),
    maintenanceDatabase: identifier('DB_MAINTENANCE_NAME', 'postgres'),
  };
  const names = Object.values(databases);
  if (new Set(names).size !== names.length) {
    problems.push({
      variable: 'DB_NAME, DB_AUTH_NAME, DB_SHARED_NAME, DB_MAINTENANCE_NAME',
      reason: 'must name four different databases',
    });
  }
  const tenantPrefix = identifier('DB_TENANT_PREFIX', 'erp_topsteel');
  const defaultSocieteCode = identifier('DEFAULT_SOCIETE_CODE', 'TOPSTEEL');
  if (defaultSocieteCode.length > maxSocieteCodeLength(tenantPrefix)) {
    problems.push({
      variable: 'DEFAULT_SOCIETE_CODE',
      reason: `is too long for DB_TENANT_PREFIX: "<prefix>_<code>" must fit in 63 characters`,
    });
  }
  for (const [variable, name] of [
    ['DB_AUTH_NAME', databases.authDatabase],
    ['DB_SHARED_NAME', databases.sharedDatabase],
    ['DB_NAME', databases.monolithDatabase],
  ] as const) {
    if (name === `${tenantPrefix}_${defaultSocieteCode}`) {
      problems.push({ variable, reason: 'collides with the default société tenant database name' });
    }
  }
  const defaultSocieteName = text('DEFAULT_SOCIETE_NAME', 'TopSteel');
  if (defaultSocieteName.length > 255)
    problems.push({ variable: 'DEFAULT_SOCIETE_NAME', reason: 'must be at most 255 characters' });

  const sslRaw = text('DB_SSL', 'false').toLowerCase();
  let ssl: SslMode = false;
  if (['true', '1', 'require', 'verify-full', 'on', 'yes'].includes(sslRaw))
    ssl = { rejectUnauthorized: sslRaw !== 'require' };
  else if (sslRaw === 'no-verify') ssl = { rejectUnauthorized: false };
  else if (!['false', '0', 'disable', 'off', 'no'].includes(sslRaw)) {
    problems.push({ variable: 'DB_SSL', reason: 'must be true, false, require, verify-full or no-verify' });
  }

  const domains = text('CLEAN_TEST_EMAIL_DOMAINS', 'example.com,example.org,test.local')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean);
  if (domains.some((domain) => !DOMAIN.test(domain))) {
    problems.push({
      variable: 'CLEAN_TEST_EMAIL_DOMAINS',
      reason: 'must be a comma-separated list of domain names',
    });
  }

  const config: MultiTenantDatabaseConfig = {
    host,
    port: integer('DB_PORT', 5432, 1, 65535),
    username,
    password: new Secret(password),
    ...databases,
    tenantPrefix,
    ssl,
    connectionTimeoutMs: integer('DB_CONNECTION_TIMEOUT', 10000, 100, 600000),
    poolSize: integer('DB_POOL_SIZE', 10, 1, 200),
    tenantPoolSize: integer('TENANT_POOL_SIZE', 2, 1, 50),
    tenantMaxDataSources: integer('TENANT_MAX_DATASOURCES', 20, 1, 1000),
    tenantIdleTimeoutMs: integer('TENANT_IDLE_TIMEOUT_MS', 300000, 1000, 86400000),
    backupDir: folder('BACKUP_DIR', 'backups'),
    logDir: folder('LOG_DIR', 'logs'),
    defaultSocieteCode,
    defaultSocieteName,
    cleanTestEmailDomains: domains,
    migrationsExtraDir: env.MIGRATIONS_EXTRA_DIR ? folder('MIGRATIONS_EXTRA_DIR', '') : undefined,
    pgBinDir: env.PG_BIN_DIR ? folder('PG_BIN_DIR', '') : undefined,
  };
  if (problems.length > 0) {
    const lines = problems.map((problem) => `  ${problem.variable}: ${problem.reason}`).join('\n');
    throw new ConfigException(
      ConfigExceptionCode.InvalidEnvironment,
      `invalid configuration:\n${lines}`,
      problems,
    );
  }
  return config;
}

/** The tenant database of a société code (already validated). */
export function tenantDatabaseName(
  config: Pick<MultiTenantDatabaseConfig, 'tenantPrefix'>,
  societeCode: string,
): string {
  return `${config.tenantPrefix}_${societeCode.toLowerCase()}`;
}
