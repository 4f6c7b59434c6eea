import { RollbackReport, RollbackValidation } from '../../src/scripts/migration/rollback-migration';
import { runCli } from '../../../../test/harness/cli';
import { TestEnvironment } from '../../../../test/harness/test-environment';

export type RollbackDocument = {
  validation: RollbackValidation;
  rollback?: RollbackReport;
  exitCode: number;
};
export type ErrorDocument = { error: { code: string; message: string } };

/** A generated monolith, already split by db:migrate: where every rollback test starts. */
export async function splitEnvironment(label: string): Promise<TestEnvironment> {
  const environment = TestEnvironment.create(label);
  await environment.createMonolith();
  const migrate = await runCli(['migrate'], environment.env());
  expect(migrate.code).toBe(0);
  return environment;
}

/** The databases the split created: AUTH, SHARED and the default société's. */
export const newDatabases = (environment: TestEnvironment): string[] => [
  environment.names.auth,
  environment.names.shared,
  environment.names.defaultTenant,
];
