import { quoteIdentifier, safeIdentifier } from '../../../common/identifiers/identifier';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { compareFingerprints } from '../backup-current-database';
import { compareSchemas } from '../snapshot/schema-fingerprint';
import { monolithBackup, RollbackStep } from './restore-monolith';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { describeDifferences } from './rollback-messages';
import { RollbackState } from './rollback-state';

const TERMINATE_SESSIONS =
  'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()';

/**
 * Puts the verified restore in the monolith's place. Decided from what exists now, so that a
 * rerun after a crash at any point of the swap finishes it or recognises it done.
 */
export async function swapMonolith(
  dependencies: RollbackDependencies,
  state: RollbackState,
  step: RollbackStep,
  lock: HeldLock,
): Promise<void> {
  const { admin } = dependencies;
  const fresh = state.restore.newName;
  const monolith = state.monolith;
  const replaced = state.restore.replacedName;
  lock.assertHeld();
  if (!(await admin.exists({ database: fresh }))) {
    await step('check the monolith in place against the backup', () =>
      assertRestoreInPlace(dependencies, state),
    );
  } else if (await admin.exists({ database: monolith })) {
    if (!replaced || (await admin.exists({ database: replaced }))) {
      throw new RollbackException(
        RollbackExceptionCode.Inconsistent,
        `${monolith} and ${fresh} both exist${replaced ? `, and so does ${replaced}` : ''}: refusing to guess which one is the monolith`,
      );
    }
    await step('swap the restored monolith in', () => renameBoth(dependencies, state, replaced));
  } else {
    // No monolith to set aside (it was gone before the rollback): one rename, nothing closed.
    await step('put the restored monolith in place', () => admin.rename({ database: fresh }, monolith));
  }
  state.restore.swapped = true;
  state.closedDoors = state.closedDoors.filter((name) => name !== monolith);
  dependencies.stateFile.write(state);
}

/**
 * PostgreSQL renames only a database nobody is connected to, so the monolith's doors are closed
 * first (on record before, so that a rerun after a kill -9 reopens them), its sessions ended, then
 * both renames and the reopening of the old monolith commit in one transaction: either everything
 * happened or nothing did, and the restored monolith is never left closed.
 */
async function renameBoth(
  dependencies: RollbackDependencies,
  state: RollbackState,
  replaced: string,
): Promise<void> {
  const monolith = quoteIdentifier(safeIdentifier(state.monolith, 'database name'));
  const fresh = quoteIdentifier(safeIdentifier(state.restore.newName, 'database name'));
  const aside = quoteIdentifier(safeIdentifier(replaced, 'database name'));
  state.closedDoors = [...new Set([...state.closedDoors, state.monolith])];
  dependencies.stateFile.write(state);
  const config = dependencies.config;
  await dependencies.connections.withClient(
    { database: config.maintenanceDatabase },
    async (client) => {
      await client.query(`ALTER DATABASE ${monolith} ALLOW_CONNECTIONS false`);
      await client.query(TERMINATE_SESSIONS, [[state.monolith, state.restore.newName]]);
      await client.query('BEGIN');
      try {
        await client.query(`ALTER DATABASE ${monolith} RENAME TO ${aside}`);
        await client.query(`ALTER DATABASE ${fresh} RENAME TO ${monolith}`);
        await client.query(`ALTER DATABASE ${aside} ALLOW_CONNECTIONS true`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        await client.query(`ALTER DATABASE ${monolith} ALLOW_CONNECTIONS true`);
        state.closedDoors = state.closedDoors.filter((name) => name !== state.monolith);
        dependencies.stateFile.write(state);
        throw error;
      }
    },
    { applicationName: 'topsteel-rollback-swap' },
  );
}

/**
 * The restore is gone: either the swap committed before an interruption (the restore is in place)
 * or someone dropped it. Only the content can tell, so the monolith is checked against the backup.
 */
async function assertRestoreInPlace(dependencies: RollbackDependencies, state: RollbackState): Promise<void> {
  const monolith = { database: state.monolith };
  if (!(await dependencies.admin.exists(monolith))) {
    throw new RollbackException(
      RollbackExceptionCode.Inconsistent,
      `neither ${state.restore.newName} (the restore) nor ${state.monolith} exists`,
    );
  }
  const { entry } = monolithBackup(dependencies, state);
  const inPlace = await dependencies.backups.describe(monolith);
  const differences = compareFingerprints(entry.tables, inPlace.tables);
  const schemaDifferences = entry.schema ? compareSchemas(entry.schema, inPlace.schema) : [];
  if (differences.length > 0 || schemaDifferences.length > 0) {
    throw new RollbackException(
      RollbackExceptionCode.Inconsistent,
      `${state.restore.newName} (the restore) is gone and ${state.monolith} differs from the backup (${describeDifferences(differences, schemaDifferences)}): delete ${dependencies.stateFile.path} to start the rollback afresh`,
    );
  }
}
