import { INestApplicationContext, Module } from '@nestjs/common';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import {
  TenantDataSourceProvider,
  TenantLocation,
} from '../../src/modules/database/tenant-data-source.provider';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class TestModule {}

const TENANTS = 6;
const MAX = 3;

describe('TenantDataSourceProvider', () => {
  const environment = TestEnvironment.create('tenantds');
  let context: INestApplicationContext;
  let provider: TenantDataSourceProvider;
  const codes = Array.from({ length: TENANTS }, (_, index) => `soc${index}`);

  const tenantConnections = async (): Promise<number> => {
    const [row] = await environment.query<{ count: string }>(
      'postgres',
      "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 AND application_name LIKE 'topsteel-tenant-%'",
      [`${environment.prefix}\\_soc%`],
    );
    return Number(row.count);
  };

  beforeAll(async () => {
    context = await createTestContext(TestModule, environment, {
      TENANT_MAX_DATASOURCES: String(MAX),
      TENANT_POOL_SIZE: '1',
      TENANT_IDLE_TIMEOUT_MS: '60000',
    });
    const admin = context.get(DatabaseAdminService);
    await admin.create({ database: environment.names.auth });
    await context.get(SchemaMigrationService).run({ database: environment.names.auth }, 'auth');
    for (const code of codes) {
      await admin.create({ database: `${environment.prefix}_${code}` });
      await environment.query(
        environment.names.auth,
        'INSERT INTO societes (code, nom, database_name) VALUES ($1, $2, $3)',
        [code.toUpperCase(), `Société ${code}`, `${environment.prefix}_${code}`],
      );
    }
    provider = context.get(TenantDataSourceProvider);
  });

  afterAll(async () => {
    await context?.close();
    await environment.cleanup();
  });

  it('resolves a société by code or id to its database', async () => {
    const byCode = await provider.resolve('SOC1');
    expect(byCode.database).toBe(`${environment.prefix}_soc1`);
    expect((await provider.resolve(byCode.societeId)).code).toBe('SOC1');
    await expect(provider.resolve('NOPE')).rejects.toThrow(/no société/);
  });

  it('never holds more than TENANT_MAX_DATASOURCES and closes the pools it evicts', async () => {
    const locations: TenantLocation[] = [];
    for (const code of codes) locations.push(await provider.resolve(code));
    for (const location of [...locations, ...locations]) {
      const database = await provider.withTenantDataSource(location, async (dataSource) => {
        const [row] = await dataSource.query<{ db: string }[]>('SELECT current_database() AS db');
        return row.db;
      });
      expect(database).toBe(location.database);
      expect(provider.stats().open).toBeLessThanOrEqual(MAX);
      expect(await tenantConnections()).toBeLessThanOrEqual(MAX);
    }
    expect(provider.stats().open).toBe(MAX);
  });

  it('waits instead of exceeding the cap when every DataSource is in use, and de-duplicates concurrent openings', async () => {
    const locations = await Promise.all(codes.map((code) => provider.resolve(code)));
    let peak = 0;
    const sampler = setInterval(
      () => void tenantConnections().then((count) => (peak = Math.max(peak, count))),
      20,
    );
    const requests = Array.from({ length: 24 }, (_, index) =>
      provider.withTenantDataSource(locations[index % TENANTS], (dataSource) =>
        dataSource.query('SELECT pg_sleep(0.05)'),
      ),
    );
    await Promise.all(requests);
    clearInterval(sampler);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(MAX);
    expect(provider.stats()).toMatchObject({ open: MAX, leased: 0 });
  });

  it('closes idle DataSources and everything on shutdown', async () => {
    expect(await provider.evictIdle(Date.now() + 61000)).toBe(MAX);
    expect(provider.stats().open).toBe(0);
    const location = await provider.resolve('SOC0');
    await provider.withTenantDataSource(location, (dataSource) => dataSource.query('SELECT 1'));
    expect(await tenantConnections()).toBe(1);
    await provider.closeAll();
    expect(await tenantConnections()).toBe(0);
  });
});
