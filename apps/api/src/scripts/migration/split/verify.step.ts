import { SchemaKind } from '../../../database/migrations/migration-sets';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { ResolvedPlan } from '../plan/plan-resolver';
import { CopySnapshotChecksums } from '../verify/copy-snapshot-checksums';
import { VerificationReport, verifySplit } from '../verify/split-verifier';
import { SplitRun } from './split-context';

/** Step 5: counts and checksums on both sides, cut references; the proof the split lost nothing. */
export async function verifyStep(
  connections: PostgresConnectionFactory,
  split: SplitRun,
  plan: ResolvedPlan,
  targets: {
    locations: Record<SchemaKind, DatabaseLocation>;
    societeId: string;
    copySnapshot?: CopySnapshotChecksums;
    /** The split's foreign keys, still being validated when the verification starts beside them. */
    keysRestored?: Promise<unknown>;
  },
): Promise<VerificationReport> {
  return split.run.step('verify', () =>
    verifySplit(connections, {
      tasks: plan.tasks,
      cutReferences: plan.cutReferences,
      locations: targets.locations,
      source: split.monolith,
      plan,
      societeId: targets.societeId,
      jobs: split.options.jobs,
      progress: split.run.progress,
      copySnapshot: targets.copySnapshot,
      keysRestored: targets.keysRestored,
    }),
  );
}
