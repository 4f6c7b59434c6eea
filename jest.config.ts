/** @jest-config-loader-options {"transpileOnly": true} */
import type { Config } from 'jest';

const transform: Config['transform'] = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};

const shared: Config = {
  transform,
  testEnvironment: 'node',
  moduleNameMapper: { '^@topsteel/legacy-fixture$': '<rootDir>/packages/legacy-fixture/src/index.ts' },
};

/**
 * unit: pure functions and the lint configuration, no database. integration: services against a real PostgreSQL (the one named
 * by PG* or TEST_DATABASE_URL, else an embedded one started by the global setup). e2e: the CLI through
 * the npm scripts, as users run it.
 */
const config: Config = {
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  // Fault tests kill and rerun whole splits: limits that hold on a loaded 2-core machine.
  testTimeout: 300000,
  maxWorkers: 2,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/apps/*/src/**/*.spec.ts',
        '<rootDir>/packages/*/src/**/*.spec.ts',
        '<rootDir>/test/**/*.spec.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/test/**/*.int-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/**/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
    },
  ],
};

export default config;
