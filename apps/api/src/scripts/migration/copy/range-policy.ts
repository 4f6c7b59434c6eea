import { SplitTablesPolicy } from '../../../database/config/multi-tenant-database.config';
import { CopyTask } from '../plan/plan-resolver';

/**
 * The tables the copy loads in block ranges, several workers each. A range load costs more than a
 * whole-table one: its rows cannot be written frozen (that needs the TRUNCATE in the loading
 * transaction), so the first reader sets their hint bits; its indexes are rebuilt in a transaction
 * of their own and its rows counted once more. It pays off only where one table would keep a
 * worker busy after the others have run out of work: larger than all the other tables together,
 * shared among the other workers. By default that is the rule (above the threshold); set
 * explicitly, the threshold alone decides, as pgcopydb's --split-tables-larger-than does. With one
 * worker, never.
 */
export function tablesInRanges(tasks: CopyTask[], jobs: number, policy?: SplitTablesPolicy): Set<CopyTask> {
  if (!policy || jobs < 2) return new Set();
  const total = tasks.reduce((sum, task) => sum + task.sizeBytes, 0);
  return new Set(
    tasks.filter(
      (task) =>
        task.sizeBytes > policy.largerThan &&
        (!policy.onlyWhenDominant || task.sizeBytes > (total - task.sizeBytes) / (jobs - 1)),
    ),
  );
}
