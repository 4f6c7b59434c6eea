import { INestApplicationContext, Module } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { CliResult, REPOSITORY_ROOT } from '../../../../test/harness/cli';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class LockModule {}

function preDeploy(reports: string, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn('bash', [join(REPOSITORY_ROOT, 'ops', 'pre-deploy.sh'), reports], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

const report = (folder: string, step: string) =>
  JSON.parse(readFileSync(join(folder, `${step}.json`), 'utf8')) as Record<string, unknown>;

describe('ops/pre-deploy.sh (the CI pre-deploy runbook)', () => {
  const environment = TestEnvironment.create('predeploy');
  let context: INestApplicationContext;

  beforeAll(async () => {
    await environment.createMonolith();
    context = await createTestContext(LockModule, environment);
  });
  afterAll(async () => {
    await context?.close();
    await environment.cleanup();
  });

  it('backs up, checks, splits and verifies, keeping one report per step; a second deploy has nothing to do', async () => {
    const first = join(environment.root, 'deploy-1');
    const result = await preDeploy(first, environment.env());
    expect(result.code).toBe(0);
    for (const step of ['backup', 'dry-run', 'migrate', 'verify'])
      expect([step, report(first, step).exitCode, report(first, step).schemaVersion]).toEqual([step, 0, 1]);
    expect(await environment.databaseExists(environment.names.defaultTenant)).toBe(true);

    const second = join(environment.root, 'deploy-2');
    expect((await preDeploy(second, environment.env())).code).toBe(0);
    expect(report(second, 'migrate')).toMatchObject({ exitCode: 0, migrations: { nothingToDo: true } });
  });

  it('retries while another run holds the lock, then stops with exit 3 after its bound', async () => {
    const folder = join(environment.root, 'deploy-locked');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holder = context
      .get(MigrationLockService)
      .withMigrationLock('migrate', { timeoutMs: 1000 }, async () => {
        entered();
        await held;
      });
    await inside;
    try {
      const result = await preDeploy(
        folder,
        environment.env({ LOCK_RETRIES: '2', LOCK_RETRY_DELAY: '0', LOCK_TIMEOUT: '200ms' }),
      );
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('retrying');
      expect(result.stderr).toContain('still held after 2 attempts');
      expect(report(folder, 'migrate')).toMatchObject({ exitCode: 3 });
      expect(existsSync(join(folder, 'verify.json'))).toBe(false);
    } finally {
      release();
      await holder;
    }
  });
});
