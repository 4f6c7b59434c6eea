import { RunContext } from '../../../common/run/run-context';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { HeldLock } from '../../../modules/database/migration-lock.service';

export type SplitOptions = {
  excludeTables?: string[];
  /** Copy workers, already fitted to the connection budget. */
  jobs: number;
  /** Dump target tables changed since the tool loaded them into BACKUP_DIR, then recopy them. */
  discardTargetChanges?: boolean;
};

/** What every step of one split run shares. */
export type SplitRun = {
  options: SplitOptions;
  run: RunContext;
  lock: HeldLock;
  monolith: DatabaseLocation;
  resumed: boolean;
  /** Where --discard-target-changes dumps the tables it overwrites. */
  backupDir: string;
};

/** Milliseconds since `time()` was called, read when the step ends. */
export function timer(): () => number {
  const at = Date.now();
  return () => Date.now() - at;
}
