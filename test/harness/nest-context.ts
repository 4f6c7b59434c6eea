import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DatabaseConfigService } from '../../apps/api/src/modules/database/database-config.service';
import { TestEnvironment } from './test-environment';

/**
 * A Nest application context wired to a test environment's databases, for integration tests that
 * drive services directly. Close it in afterAll: that closes every pool.
 */
export async function createTestContext(
  module: Type<unknown>,
  environment: TestEnvironment,
  overrides: Record<string, string | undefined> = {},
): Promise<INestApplicationContext> {
  const context = await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false });
  context.get(DatabaseConfigService).useConfig(environment.config(overrides));
  return context;
}
