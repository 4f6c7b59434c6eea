import { DryRunMigrationService } from '../dry-run-migration';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { ResolvedPlan } from '../plan/plan-resolver';
import { SplitRun } from './split-context';

/** Step 1: the pre-flight, which resolves the plan against the live monolith; nothing is written if it fails. */
export async function planStep(dryRun: DryRunMigrationService, split: SplitRun): Promise<ResolvedPlan> {
  const { options, run } = split;
  const preflight = await run.step('pre-flight', () =>
    dryRun.preflight({ excludeTables: options.excludeTables, jobs: options.jobs, exactCounts: false }),
  );
  if (preflight.report.ok && preflight.plan) return preflight.plan;
  const failed = preflight.report.checks.filter((check) => !check.ok);
  throw new MigrationException(
    MigrationExceptionCode.PreflightFailed,
    `pre-flight failed, nothing was written:\n${failed.map((check) => `  ❌ ${check.label}: ${check.detail}`).join('\n')}`,
    { checks: failed },
  );
}
