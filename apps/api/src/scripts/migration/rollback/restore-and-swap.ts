import { InterruptedException } from '../../../common/run/interrupted.exception';
import { RunContext } from '../../../common/run/run-context';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { restoreIntoNewDatabase, RollbackStep } from './restore-monolith';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { RollbackState } from './rollback-state';
import { swapMonolith } from './swap-monolith';

/**
 * The monolith comes back before anything is dropped (DESIGN.md invariant 5): restore into a new
 * database, verify, swap. A failure on the way is undone (the partial restore dropped, the
 * monolith reopened, the record forgotten when nothing else was done) and reported with the step,
 * so AUTH, SHARED, the tenants and the monolith are all where they were, and open.
 */
export async function restoreAndSwap(
  dependencies: RollbackDependencies,
  state: RollbackState,
  run: RunContext,
  lock: HeldLock,
): Promise<void> {
  let current = 'create the restore database';
  const step: RollbackStep = (name, work) => {
    current = name;
    return run.step(name, work);
  };
  try {
    if (!state.restore.restored) {
      await restoreIntoNewDatabase(dependencies, state, step);
      run.info(
        `Restored ${state.backup?.name} into ${state.restore.newName} and verified it against the manifest.`,
      );
    }
    current = 'swap the restored monolith in';
    await swapMonolith(dependencies, state, step, lock);
    run.info(
      `${state.monolith} is the restored monolith${state.restore.replacedName ? `; the one it replaced is kept as ${state.restore.replacedName}` : ''}.`,
    );
  } catch (error) {
    // The record's own contradictions are left as they are for the operator to read.
    if (
      state.restore.swapped ||
      (error instanceof RollbackException && error.code === RollbackExceptionCode.Inconsistent)
    )
      throw error;
    const undone = await undoBeforeSwap(dependencies, state);
    if (error instanceof InterruptedException) throw error;
    const cause = error instanceof Error ? error.message : String(error);
    const kept = [state.monolith, ...state.drop.map((database) => database.name)].join(', ');
    throw new RollbackException(
      RollbackExceptionCode.StoppedBeforeSwap,
      `rollback stopped at step "${current}": ${cause}. Nothing was dropped or renamed: ${kept} are where they were, and open${undone ? `; the partial restore ${state.restore.newName} was dropped` : `; drop ${state.restore.newName} (the partial restore) by hand, or let the next db:rollback do it`}`,
      { step: current },
    );
  }
}

/** Returns false when the partial restore could not be dropped: the record then stays for the rerun. */
async function undoBeforeSwap(dependencies: RollbackDependencies, state: RollbackState): Promise<boolean> {
  const { admin, stateFile } = dependencies;
  let undone = true;
  try {
    await admin.drop({ database: state.restore.newName }, { requireOwnership: false });
    state.restore.restored = false;
  } catch {
    undone = false;
  }
  if (state.closedDoors.includes(state.monolith)) {
    await admin.openDoors({ database: state.monolith });
    state.closedDoors = state.closedDoors.filter((name) => name !== state.monolith);
  }
  // Nothing else was done before the swap, unless an earlier version's run dropped databases first.
  if (undone && state.dropped.length === 0 && !state.preDropBackup && state.closedDoors.length === 0)
    stateFile.discard();
  else stateFile.write(state);
  return undone;
}
