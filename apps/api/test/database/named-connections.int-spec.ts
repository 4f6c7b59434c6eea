import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ExitCode } from '../../src/common/exceptions/exit-code';
import { ConfigException } from '../../src/database/config/config.exception';
import { SharedMaterialEntity } from '../../src/database/entities/material.entity';
import { UserEntity } from '../../src/database/entities/user.entity';
import { AccessModule } from '../../src/modules/access/access.module';
import { ConnectionOpenerService } from '../../src/modules/database/connection-opener.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { DatabaseException, DatabaseExceptionCode } from '../../src/modules/database/database.exception';
import { CONNECTION_NAMES } from '../../src/modules/database/named-connections';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { SharedModule } from '../../src/modules/shared/shared.module';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/** What the HTTP app imports for its data: the named connections and the modules reading them. */
@Module({
  imports: [DatabaseMultiTenantModule, AccessModule.register({ mode: 'multi-tenant' }), SharedModule],
})
class AppDataModule {}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('DatabaseMultiTenantModule named connections', () => {
  const environment = TestEnvironment.create('namedconn');
  let context: INestApplicationContext;
  let opener: ConnectionOpenerService;

  const sessions = async (database: string, applicationName: string): Promise<number> => {
    const [row] = await environment.query<{ count: string }>(
      'postgres',
      'SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [database, applicationName],
    );
    return Number(row.count);
  };

  beforeAll(async () => {
    context = await createTestContext(AppDataModule, environment);
    opener = context.get(ConnectionOpenerService);
  });
  afterAll(async () => {
    await context?.close();
    await environment.cleanup();
  });

  it('bootstraps with an invalid configuration, connecting nothing, and reads it on first use', async () => {
    const saved = { port: process.env.DB_PORT, envFile: process.env.TOPSTEEL_ENV_FILE };
    process.env.DB_PORT = 'not-a-port';
    process.env.TOPSTEEL_ENV_FILE = 'none';
    const bare = await NestFactory.createApplicationContext(AppDataModule, { logger: false });
    try {
      for (const name of CONNECTION_NAMES) {
        expect(bare.get<DataSource>(getDataSourceToken(name)).isInitialized).toBe(false);
      }
      const bareOpener = bare.get(ConnectionOpenerService);
      expect(bareOpener.opened()).toEqual([]);
      const failure = await bareOpener.open('auth').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigException);
      expect((failure as ConfigException).exitCode).toBe(ExitCode.Usage);
      expect((failure as ConfigException).message).toContain('DB_PORT');
    } finally {
      restore('DB_PORT', saved.port);
      restore('TOPSTEEL_ENV_FILE', saved.envFile);
      await bare.close();
    }
  });

  it('injects repositories by connection name before any connection exists', () => {
    const users = context.get<Repository<UserEntity>>(getRepositoryToken(UserEntity, 'auth'));
    const materials = context.get<Repository<SharedMaterialEntity>>(
      getRepositoryToken(SharedMaterialEntity, 'shared'),
    );
    expect(users.manager.dataSource).toBe(context.get(getDataSourceToken('auth')));
    expect(materials.manager.dataSource).toBe(context.get(getDataSourceToken('shared')));
    expect(opener.opened()).toEqual([]);
  });

  it('refuses to open `tenant` before its database exists, then opens it once created', async () => {
    const failure = await opener.open('tenant').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseException);
    expect((failure as DatabaseException).code).toBe(DatabaseExceptionCode.DatabaseMissing);
    expect(opener.opened()).toEqual([]);

    await environment.query('postgres', `CREATE DATABASE "${environment.names.defaultTenant}"`);
    const tenant = await opener.open('tenant');
    expect(tenant).toBe(context.get(getDataSourceToken('tenant')));
    expect(opener.opened()).toEqual(['tenant']);
    expect(await sessions(environment.names.defaultTenant, 'topsteel-tenant')).toBeGreaterThan(0);
  });

  it('reads AUTH through the injected repository, concurrent first uses sharing one connection', async () => {
    await environment.query('postgres', `CREATE DATABASE "${environment.names.auth}"`);
    await context.get(SchemaMigrationService).run({ database: environment.names.auth }, 'auth');
    const users = context.get<Repository<UserEntity>>(getRepositoryToken(UserEntity, 'auth'));
    const ready = await Promise.all(Array.from({ length: 5 }, () => opener.ready(users)));
    expect(new Set(ready)).toEqual(new Set([users]));
    // One initialize(): its pool holds the one session it opened to check the server.
    expect(await sessions(environment.names.auth, 'topsteel-auth')).toBe(1);
    expect(await users.count()).toBe(0);
    expect(opener.opened().sort()).toEqual(['auth', 'tenant']);
  });

  it('closes what it opened when the context closes', async () => {
    await opener.close();
    expect(opener.opened()).toEqual([]);
    expect(await sessions(environment.names.auth, 'topsteel-auth')).toBe(0);
    expect(await sessions(environment.names.defaultTenant, 'topsteel-tenant')).toBe(0);
  });
});
