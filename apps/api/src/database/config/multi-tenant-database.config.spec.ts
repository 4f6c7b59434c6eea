import { ConfigException } from './config.exception';
import { loadMultiTenantDatabaseConfig } from './multi-tenant-database.config';

const problemsOf = (env: Record<string, string>): { variable: string; reason: string }[] => {
  try {
    loadMultiTenantDatabaseConfig(env);
  } catch (error) {
    if (error instanceof ConfigException) return error.problems;
    throw error;
  }
  return [];
};

describe('loadMultiTenantDatabaseConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadMultiTenantDatabaseConfig({});
    expect(config).toMatchObject({
      host: 'localhost',
      port: 5432,
      username: 'postgres',
      monolithDatabase: 'erp_topsteel',
      authDatabase: 'erp_topsteel_auth',
      sharedDatabase: 'erp_topsteel_shared',
      tenantPrefix: 'erp_topsteel',
      maintenanceDatabase: 'postgres',
      defaultSocieteCode: 'topsteel',
      defaultSocieteName: 'TopSteel',
      ssl: false,
    });
    expect(config.password.isEmpty).toBe(true);
  });

  it('splits tables in ranges only when one dominates, unless SPLIT_TABLES_LARGER_THAN_KB is set', () => {
    expect(loadMultiTenantDatabaseConfig({}).splitTables).toEqual({
      largerThan: 64 * 1024 * 1024,
      onlyWhenDominant: true,
    });
    expect(loadMultiTenantDatabaseConfig({ SPLIT_TABLES_LARGER_THAN_KB: '65536' }).splitTables).toEqual({
      largerThan: 64 * 1024 * 1024,
      onlyWhenDominant: false,
    });
  });

  it('lower-cases identifiers and accepts mixed-case safe names', () => {
    expect(loadMultiTenantDatabaseConfig({ DB_NAME: 'ERP_Legacy' }).monolithDatabase).toBe('erp_legacy');
  });

  it.each([
    ['DB_PORT', 'abc'],
    ['DB_PORT', '70000'],
    ['DB_NAME', 'erp"; drop database x; --'],
    ['DB_AUTH_NAME', 'auth-db'],
    ['DB_TENANT_PREFIX', '1tenant'],
    ['DB_SHARED_NAME', 'a'.repeat(64)],
    ['DB_SSL', 'maybe'],
    ['DB_POOL_SIZE', '0'],
    ['TENANT_MAX_DATASOURCES', '-3'],
    ['DB_CONNECTION_TIMEOUT', '1.5'],
    ['CLEAN_TEST_EMAIL_DOMAINS', 'example.com,not a domain'],
    ['DEFAULT_SOCIETE_CODE', 'top steel'],
    ['DB_HOST', 'postgres://user:secret@host/db'],
  ])('refuses %s=%j with the variable name and no value', (variable, value) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems.map((problem) => problem.variable)).toContain(variable);
    // Short values ("0") are substrings of any sentence; the rule matters for values that could be secrets.
    if (value.length > 3) expect(JSON.stringify(problems)).not.toContain(value);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ DB_PORT: 'x', DB_NAME: 'bad name', DB_POOL_SIZE: '0' });
    expect(problems.map((problem) => problem.variable).sort()).toEqual([
      'DB_NAME',
      'DB_POOL_SIZE',
      'DB_PORT',
    ]);
  });

  it('refuses two roles on one database', () => {
    expect(problemsOf({ DB_NAME: 'same', DB_AUTH_NAME: 'same' })).toHaveLength(1);
  });

  it('refuses a société code too long for the prefix', () => {
    const problems = problemsOf({ DB_TENANT_PREFIX: 'p'.repeat(60), DEFAULT_SOCIETE_CODE: 'abcdef' });
    expect(problems.map((problem) => problem.variable)).toEqual(['DEFAULT_SOCIETE_CODE']);
  });

  it('never prints the password, even when serialised', () => {
    const config = loadMultiTenantDatabaseConfig({ DB_PASSWORD: 'Recognisable-Pa55' });
    expect(JSON.stringify(config)).not.toContain('Recognisable-Pa55');
    expect(String(config.password)).toBe('[redacted]');
    expect(config.password.reveal()).toBe('Recognisable-Pa55');
  });

  it('resolves relative folders against the repository root', () => {
    const config = loadMultiTenantDatabaseConfig({ BACKUP_DIR: 'backups', LOG_DIR: '/var/log/topsteel' });
    expect(config.backupDir).toMatch(/\/backups$/);
    expect(config.backupDir.startsWith('/')).toBe(true);
    expect(config.logDir).toBe('/var/log/topsteel');
  });
});
