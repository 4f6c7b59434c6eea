import { INestApplicationContext, Module } from '@nestjs/common';
import { Client } from 'pg';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { TenantDataSourceProvider } from '../../src/modules/database/tenant-data-source.provider';
import { ExtraCluster, startExtraCluster } from '../../../../test/harness/extra-cluster';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class TestModule {}

const PER_SERVER = 2;
const PASSWORD = 'cluster-only-password-5d1e';

/** The tenant DataSource provider routes by server name and holds each server to its own cap. */
describe('TenantDataSourceProvider across servers', () => {
  const environment = TestEnvironment.create('tdsservers');
  let eu1: ExtraCluster;
  let context: INestApplicationContext;
  let provider: TenantDataSourceProvider;
  const placement: [string, string][] = [
    ['E1', 'eu1'],
    ['E2', 'eu1'],
    ['E3', 'eu1'],
    ['E4', 'eu1'],
    ['D1', 'default'],
    ['D2', 'default'],
  ];

  const sessionsOnEu1 = async (): Promise<number> => {
    const client = new Client({
      host: eu1.host,
      port: eu1.port,
      user: eu1.user,
      password: PASSWORD,
      database: 'postgres',
    });
    await client.connect();
    try {
      const result = await client.query<{ count: string }>(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'topsteel-tenant-%'",
      );
      return Number(result.rows[0].count);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    eu1 = await startExtraCluster(PASSWORD);
    context = await createTestContext(TestModule, environment, {
      TENANT_SERVERS: `eu1=127.0.0.1:${eu1.port}`,
      TENANT_SERVER_EU1_PASSWORD: PASSWORD,
      TENANT_SERVER_MAX_CONNECTIONS: String(PER_SERVER),
      TENANT_MAX_DATASOURCES: '6',
      TENANT_POOL_SIZE: '1',
    });
    const admin = context.get(DatabaseAdminService);
    await admin.create({ database: environment.names.auth });
    await context.get(SchemaMigrationService).run({ database: environment.names.auth }, 'auth');
    for (const [code, server] of placement) {
      const database = `${environment.prefix}_${code.toLowerCase()}`;
      await admin.create({ database, server });
      await environment.query(
        environment.names.auth,
        'INSERT INTO societes (code, nom, database_name, database_server) VALUES ($1, $2, $3, $4)',
        [code, `Société ${code}`, database, server],
      );
    }
    provider = context.get(TenantDataSourceProvider);
  });

  afterAll(async () => {
    await context?.close();
    await eu1?.remove();
    await environment.cleanup();
  });

  it('opens a société on the server its registry row names', async () => {
    for (const [code, server] of placement) {
      const location = await provider.resolve(code);
      expect(location.server).toBe(server);
      const port = await provider.withTenantDataSource(location, async (dataSource) => {
        const [row] = await dataSource.query<{ port: number }[]>('SELECT inet_server_port() AS port');
        return row.port;
      });
      expect(port).toBe(server === 'eu1' ? eu1.port : environment.config().port);
    }
  });

  it('never opens more than TENANT_SERVER_MAX_CONNECTIONS on one server, whatever the overall cap', async () => {
    const locations = await Promise.all(placement.map(([code]) => provider.resolve(code)));
    let peak = 0;
    const sampler = setInterval(
      () => void sessionsOnEu1().then((count) => (peak = Math.max(peak, count))),
      20,
    );
    await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        provider.withTenantDataSource(locations[index % locations.length], (dataSource) =>
          dataSource.query('SELECT pg_sleep(0.05)'),
        ),
      ),
    );
    clearInterval(sampler);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(PER_SERVER);
    expect(await sessionsOnEu1()).toBeLessThanOrEqual(PER_SERVER);
  });
});
