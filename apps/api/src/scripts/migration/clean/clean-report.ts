import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { CleanAnalysis, CleanRuleReport } from './clean-analysis';
import { CleanTarget } from './clean-rules';
import { RestoredTable } from './clean-restorer';
import { PlanSummary } from './plan-summary';

export type CleanOptions = {
  target?: string;
  /** Rule names (--rule, repeatable); every rule of the target when empty. */
  rules?: string[];
  rulesFile?: string;
};

export type CleanExecuteOptions = CleanOptions & {
  maxBackupAgeMs: number;
  /** Take a db:backup when none usable exists (default); false refuses instead. */
  autoBackup: boolean;
  lockTimeoutMs: number;
};

export type CleanRestoreOptions = {
  archive: string;
  target?: string;
  lockTimeoutMs: number;
  /** Restore rows of tables without primary key although PostgreSQL cannot tell whether they are already there. */
  acceptDuplicateRisk?: boolean;
};

export type CleanBackupReport =
  | { policy: 'matching' | 'taken'; name: string; path: string; createdAt: string; detail: string }
  | { policy: 'not-required'; detail: string };

export type CleanReport = {
  mode: 'dry-run' | 'execute';
  target: CleanTarget;
  database: string;
  rules: CleanRuleReport[];
  /** What execute deletes (or deleted): each row once, cascades included. */
  totals: PlanSummary;
  nothingToDo: boolean;
  /** Why execute would refuse (blocking references, changes it could not restore). */
  refusals: string[];
  backup: CleanBackupReport | null;
  archive: { name: string; path: string; tables: number; deletedRows: number; modifiedRows: number } | null;
  notes: string[];
};

export type CleanRestoreReport = {
  mode: 'restore';
  target: CleanTarget;
  database: string;
  archive: { name: string; path: string; createdAt: string };
  tables: RestoredTable[];
  insertedRows: number;
  updatedRows: number;
  /** What made the restore safe: the clean committed, earlier restores did not (or why keys had to decide). */
  established: string[];
};

/** The report of a dry run or an execute; a dry run's notes are its own, execute's add the analysis' notes. */
export function cleanReport(
  mode: CleanReport['mode'],
  target: CleanTarget,
  location: DatabaseLocation,
  analysis: CleanAnalysis,
  outcome: { backup: CleanBackupReport | null; archive: CleanReport['archive']; notes: string[] },
): CleanReport {
  return {
    mode,
    target,
    database: location.database,
    rules: analysis.rules,
    totals: analysis.totals,
    nothingToDo: analysis.totals.deletedRows === 0,
    refusals: analysis.refusals,
    backup: outcome.backup,
    archive: outcome.archive,
    notes: mode === 'dry-run' ? outcome.notes : [...analysis.notes, ...outcome.notes],
  };
}

/** The report of a --restore: what went back, table by table, and what made it safe. */
export function restoreReport(
  target: CleanTarget,
  location: DatabaseLocation,
  archive: CleanRestoreReport['archive'],
  tables: RestoredTable[],
  established: string[],
): CleanRestoreReport {
  const rowsOf = (action: RestoredTable['action']): number =>
    tables.filter((table) => table.action === action).reduce((sum, table) => sum + table.rows, 0);
  return {
    mode: 'restore',
    target,
    database: location.database,
    archive,
    tables,
    insertedRows: rowsOf('inserted'),
    updatedRows: rowsOf('updated'),
    established,
  };
}
