import { safeIdentifier } from '../../../common/identifiers/identifier';
import { RunContext } from '../../../common/run/run-context';
import { RollbackDependencies } from './rollback-dependencies';
import { RollbackState } from './rollback-state';
import { RollbackValidation } from './rollback.types';

const timestamp = (date: Date): string =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .toLowerCase();

/** Drop order: tenants first, AUTH (which holds the journal) last. */
const DROP_ORDER = ['tenant', 'shared', 'auth'];

/** The record of a rollback about to start: what it restores (and under which names), what it drops. */
export async function newRollbackState(
  dependencies: RollbackDependencies,
  validation: RollbackValidation,
  run: RunContext,
): Promise<RollbackState> {
  const config = dependencies.config;
  const journal = await dependencies.journal.read().catch(() => null);
  const suffix = `_${timestamp(new Date())}`;
  const base = config.monolithDatabase.slice(0, 63 - suffix.length - 9);
  return {
    version: 1,
    runId: run.runId,
    startedAt: new Date().toISOString(),
    monolith: config.monolithDatabase,
    authDatabase: config.authDatabase,
    backup: validation.backup,
    drop: [...validation.drop].sort(
      (left, right) => DROP_ORDER.indexOf(left.kind) - DROP_ORDER.indexOf(right.kind),
    ),
    dropped: [],
    snapshots: journal?.snapshots ?? [],
    splitStatus: validation.splitStatus,
    closedDoors: [],
    preDropBackup: null,
    earlierPreDropBackups: [],
    restore: {
      needed: validation.restore.needed,
      newName: safeIdentifier(`${base}_restore${suffix}`, 'restore database name'),
      replacedName: validation.restore.monolithExists
        ? safeIdentifier(`${base}_replaced${suffix}`, 'replaced database name')
        : null,
      restored: false,
      swapped: false,
    },
  };
}
