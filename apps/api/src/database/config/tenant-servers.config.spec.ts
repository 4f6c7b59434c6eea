import { ConfigException } from './config.exception';
import { loadMultiTenantDatabaseConfig } from './multi-tenant-database.config';

const failure = (env: Record<string, string>): ConfigException => {
  try {
    loadMultiTenantDatabaseConfig(env);
  } catch (error) {
    if (error instanceof ConfigException) return error;
    throw error;
  }
  throw new Error('expected a configuration error');
};

describe('TENANT_SERVERS', () => {
  it('always holds default = DB_HOST:DB_PORT with DB_USERNAME / DB_PASSWORD', () => {
    const config = loadMultiTenantDatabaseConfig({ DB_HOST: 'db', DB_PORT: '6543', DB_PASSWORD: 'pw-main' });
    expect(config.servers).toHaveLength(1);
    expect(config.servers[0]).toMatchObject({
      name: 'default',
      host: 'db',
      port: 6543,
      username: 'postgres',
    });
    expect(config.servers[0].password.reveal()).toBe('pw-main');
    expect(config.tenantServerMaxConnections).toBe(4);
  });

  it('reads declared servers, with per-server credentials falling back to DB_USERNAME / DB_PASSWORD', () => {
    const config = loadMultiTenantDatabaseConfig({
      DB_PASSWORD: 'pw-main',
      TENANT_SERVERS: ' eu1=pg-eu1.internal:5432 , eu_2=10.0.0.7:6000,v6=[::1]:5433',
      TENANT_SERVER_EU_2_USERNAME: 'topsteel',
      TENANT_SERVER_EU_2_PASSWORD: 'pw-eu2',
      TENANT_SERVER_MAX_CONNECTIONS: '2',
    });
    expect(config.servers.map(({ name, host, port, username }) => ({ name, host, port, username }))).toEqual([
      { name: 'default', host: 'localhost', port: 5432, username: 'postgres' },
      { name: 'eu1', host: 'pg-eu1.internal', port: 5432, username: 'postgres' },
      { name: 'eu_2', host: '10.0.0.7', port: 6000, username: 'topsteel' },
      { name: 'v6', host: '::1', port: 5433, username: 'postgres' },
    ]);
    expect(config.servers[1].password.reveal()).toBe('pw-main');
    expect(config.servers[2].password.reveal()).toBe('pw-eu2');
    expect(JSON.stringify(config.servers)).not.toContain('pw-eu2');
    expect(config.tenantServerMaxConnections).toBe(2);
  });

  it.each([
    ['a bad entry', 'eu1=pg-eu1:5432,garbage'],
    ['a missing port', 'eu1=pg-eu1'],
    ['a bad name', 'EU1=pg-eu1:5432'],
    ['a name starting with a digit', '1eu=pg-eu1:5432'],
    ['a too long name', `${'a'.repeat(32)}=pg:5432`],
    ['a URL', 'eu1=postgres://u:secretpw@pg:5432'],
    ['a duplicate name', 'eu1=pg-a:5432,eu1=pg-b:5432'],
    ['default redefined', 'default=pg-a:5432'],
    ['a port out of range', 'eu1=pg:70000'],
  ])('rejects %s with exit 2 naming TENANT_SERVERS and no value', (_label, value) => {
    const error = failure({ TENANT_SERVERS: value });
    expect(error.exitCode).toBe(2);
    expect(error.problems.map((problem) => problem.variable)).toEqual(['TENANT_SERVERS']);
    expect(error.message).not.toContain('secretpw');
    expect(error.message).not.toContain('pg-a');
  });

  it('rejects an out-of-range TENANT_SERVER_MAX_CONNECTIONS', () => {
    expect(failure({ TENANT_SERVER_MAX_CONNECTIONS: '0' }).problems[0].variable).toBe(
      'TENANT_SERVER_MAX_CONNECTIONS',
    );
  });
});
