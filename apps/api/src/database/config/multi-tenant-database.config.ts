import { parse as parseDotenv } from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Secret } from '../../common/secrets/secret';
import { ConfigException, ConfigExceptionCode } from './config.exception';
import { Environment, EnvironmentReader } from './environment-reader';

export type { Environment } from './environment-reader';
import { repositoryRoot } from './repository-root';
import { readTenantServers, TenantServer } from './tenant-servers.config';

export type { TenantServer } from './tenant-servers.config';

export type SslMode = false | { rejectUnauthorized: boolean };

/**
 * SPLIT_TABLES_LARGER_THAN_KB, in bytes, and whether it was left unset: then the 64 MB default is
 * only a floor, and a table must also dominate the copy to be split (copy/range-policy.ts).
 */
export type SplitTablesPolicy = { largerThan: number; onlyWhenDominant: boolean };

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
  /** Total time a connection refused or reset for a moment (restart, checkpoint, full pool) is retried; 0: never. */
  connectRetryMs: number;
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
  /** Servers that may hold tenant databases; the first is always `default` (DB_HOST:DB_PORT). */
  servers: TenantServer[];
  /** TENANT_SERVER_MAX_CONNECTIONS: most tenant connections the tool opens on one server at once. */
  tenantServerMaxConnections: number;
  /** SPLIT_TABLES_LARGER_THAN_KB: which tables the split copies in block ranges, several workers each. */
  splitTables: SplitTablesPolicy;
};

/** Longest société code such that `<prefix>_<code>` stays a valid database name. */
export function maxSocieteCodeLength(prefix: string): number {
  return 63 - prefix.length - 1;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

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
  const reader = new EnvironmentReader(env);
  const folder = (variable: string, fallback: string): string => {
    const value = reader.text(variable, fallback);
    if (value.includes('\u0000')) reader.problem(variable, 'must be a path');
    return isAbsolute(value) ? value : resolve(repositoryRoot(), value);
  };

  const host = reader.host('DB_HOST', 'localhost');
  const username = reader.text('DB_USERNAME', 'postgres');
  if (/[\s@/:]/.test(username) || [...username].some((character) => character.charCodeAt(0) < 32))
    reader.problem('DB_USERNAME', 'must be a role name');
  const password = env.DB_PASSWORD ?? '';

  const databases = {
    monolithDatabase: reader.identifier('DB_NAME', 'erp_topsteel'),
    authDatabase: reader.identifier('DB_AUTH_NAME', 'erp_topsteel_auth'),
    sharedDatabase: reader.identifier('DB_SHARED_NAME', 'erp_topsteel_shared'),
    maintenanceDatabase: reader.identifier('DB_MAINTENANCE_NAME', 'postgres'),
  };
  const names = Object.values(databases);
  if (new Set(names).size !== names.length) {
    reader.problem(
      'DB_NAME, DB_AUTH_NAME, DB_SHARED_NAME, DB_MAINTENANCE_NAME',
      'must name four different databases',
    );
  }
  const tenantPrefix = reader.identifier('DB_TENANT_PREFIX', 'erp_topsteel');
  const defaultSocieteCode = reader.identifier('DEFAULT_SOCIETE_CODE', 'TOPSTEEL');
  if (defaultSocieteCode.length > maxSocieteCodeLength(tenantPrefix)) {
    reader.problem(
      'DEFAULT_SOCIETE_CODE',
      `is too long for DB_TENANT_PREFIX: "<prefix>_<code>" must fit in 63 characters`,
    );
  }
  for (const [variable, name] of [
    ['DB_AUTH_NAME', databases.authDatabase],
    ['DB_SHARED_NAME', databases.sharedDatabase],
    ['DB_NAME', databases.monolithDatabase],
  ] as const) {
    if (name === `${tenantPrefix}_${defaultSocieteCode}`) {
      reader.problem(variable, 'collides with the default société tenant database name');
    }
  }
  const defaultSocieteName = reader.text('DEFAULT_SOCIETE_NAME', 'TopSteel');
  if (defaultSocieteName.length > 255)
    reader.problem('DEFAULT_SOCIETE_NAME', 'must be at most 255 characters');

  const ssl = readSsl(reader);
  const domains = readCleanDomains(reader);

  const port = reader.integer('DB_PORT', 5432, 1, 65535);
  // A password equal to a name the tool prints (postgres) is scrubbed only where it is a password.
  const secret = new Secret(password, { publicNames: [host, username, tenantPrefix, ...names] });
  const config: MultiTenantDatabaseConfig = {
    host,
    port,
    username,
    password: secret,
    ...databases,
    tenantPrefix,
    ssl,
    connectionTimeoutMs: reader.integer('DB_CONNECTION_TIMEOUT', 10000, 100, 600000),
    connectRetryMs: reader.integer('DB_CONNECT_RETRY_TIMEOUT', 15000, 0, 600000),
    poolSize: reader.integer('DB_POOL_SIZE', 10, 1, 200),
    tenantPoolSize: reader.integer('TENANT_POOL_SIZE', 2, 1, 50),
    tenantMaxDataSources: reader.integer('TENANT_MAX_DATASOURCES', 20, 1, 1000),
    tenantIdleTimeoutMs: reader.integer('TENANT_IDLE_TIMEOUT_MS', 300000, 1000, 86400000),
    backupDir: folder('BACKUP_DIR', 'backups'),
    logDir: folder('LOG_DIR', 'logs'),
    defaultSocieteCode,
    defaultSocieteName,
    cleanTestEmailDomains: domains,
    migrationsExtraDir: env.MIGRATIONS_EXTRA_DIR ? folder('MIGRATIONS_EXTRA_DIR', '') : undefined,
    pgBinDir: env.PG_BIN_DIR ? folder('PG_BIN_DIR', '') : undefined,
    servers: readTenantServers(reader, { host, port, username, password: secret }),
    tenantServerMaxConnections: reader.integer('TENANT_SERVER_MAX_CONNECTIONS', 4, 1, 1000),
    splitTables: readSplitTables(reader),
  };
  reader.assertValid();
  return config;
}

function readSsl(reader: EnvironmentReader): SslMode {
  const sslRaw = reader.text('DB_SSL', 'false').toLowerCase();
  if (['true', '1', 'require', 'verify-full', 'on', 'yes'].includes(sslRaw))
    return { rejectUnauthorized: sslRaw !== 'require' };
  if (sslRaw === 'no-verify') return { rejectUnauthorized: false };
  if (!['false', '0', 'disable', 'off', 'no'].includes(sslRaw))
    reader.problem('DB_SSL', 'must be true, false, require, verify-full or no-verify');
  return false;
}

function readCleanDomains(reader: EnvironmentReader): string[] {
  const domains = reader
    .text('CLEAN_TEST_EMAIL_DOMAINS', 'example.com,example.org,test.local')
    .split(',')
    .map((domain) => domain.trim().toLowerCase())
    .filter(Boolean);
  if (domains.some((domain) => !DOMAIN.test(domain)))
    reader.problem('CLEAN_TEST_EMAIL_DOMAINS', 'must be a comma-separated list of domain names');
  return domains;
}

/** The tenant database of a société code (already validated). */
export function tenantDatabaseName(
  config: Pick<MultiTenantDatabaseConfig, 'tenantPrefix'>,
  societeCode: string,
): string {
  return `${config.tenantPrefix}_${societeCode.toLowerCase()}`;
}

function readSplitTables(reader: EnvironmentReader): SplitTablesPolicy {
  return {
    largerThan: reader.integer('SPLIT_TABLES_LARGER_THAN_KB', 65536, 8, 1073741824) * 1024,
    onlyWhenDominant: reader.text('SPLIT_TABLES_LARGER_THAN_KB', '') === '',
  };
}
