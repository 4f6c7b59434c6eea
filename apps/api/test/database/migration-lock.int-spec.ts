import { INestApplicationContext, Module } from '@nestjs/common';
import { ExitCode } from '../../src/common/exceptions/exit-code';
import { DatabaseException } from '../../src/modules/database/database.exception';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { LockHolder, MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class TestModule {}

describe('MigrationLockService', () => {
  const environment = TestEnvironment.create('lock');
  let first: INestApplicationContext;
  let second: INestApplicationContext;

  beforeAll(async () => {
    first = await createTestContext(TestModule, environment);
    second = await createTestContext(TestModule, environment);
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await environment.cleanup();
  });

  it('lets one holder in, makes the other wait, then refuses with exit code 3 naming the holder', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holder = first
      .get(MigrationLockService)
      .withMigrationLock('migrate', { timeoutMs: 1000 }, async () => {
        entered();
        await held;
      });
    await inside;

    const waits: (LockHolder | null)[] = [];
    const started = Date.now();
    const refused = await second
      .get(MigrationLockService)
      .withMigrationLock(
        'rollback',
        { timeoutMs: 600, onWait: (current) => waits.push(current) },
        async () => 'ran',
      )
      .catch((error: unknown) => error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(refused).toBeInstanceOf(DatabaseException);
    expect((refused as DatabaseException).exitCode).toBe(ExitCode.LockHeld);
    expect((refused as DatabaseException).message).toMatch(
      new RegExp(`"migrate" \\(pid ${process.pid} on .+\\) since \\d{4}-`),
    );
    expect(waits[0]).toMatchObject({ command: 'migrate', pid: process.pid });

    release();
    await holder;
    await expect(
      second.get(MigrationLockService).withMigrationLock('rollback', { timeoutMs: 600 }, async () => 'ran'),
    ).resolves.toBe('ran');
  });

  it('is scoped to one installation (the AUTH database name)', async () => {
    const other = await createTestContext(TestModule, environment, {
      DB_AUTH_NAME: `${environment.prefix}_other_auth`,
    });
    try {
      const result = await first
        .get(MigrationLockService)
        .withMigrationLock('migrate', { timeoutMs: 100 }, () =>
          other
            .get(MigrationLockService)
            .withMigrationLock('migrate', { timeoutMs: 100 }, async () => 'both'),
        );
      expect(result).toBe('both');
    } finally {
      await other.close();
    }
  });
});
