import { SchemaKind } from '../../../database/migrations/migration-sets';
import { CopiedTable } from '../copy/copy-engine';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { CopyTask, ResolvedExclusion } from '../plan/plan-resolver';
import { PreparedTargets } from '../targets/split-targets';
import { taskKey, VerificationReport } from '../verify/split-verifier';

/**
 * Where the split's time went, step by step (wall-clock milliseconds). `indexMs` is the sum of the
 * tables' index and key rebuilds, which run inside `copyMs` while other workers still copy.
 */
export type SplitTimings = {
  preflightMs: number;
  prepareMs: number;
  backupMs: number;
  copyMs: number;
  indexMs: number;
  constraintsMs: number;
  linkUsersMs: number;
  analyzeMs: number;
  verifyMs: number;
  journalMs: number;
  totalMs: number;
};

export type SplitReport = {
  resumed: boolean;
  backup: { path: string; reused: boolean };
  databases: { name: string; kind: SchemaKind; created: boolean }[];
  societeId: string;
  tables: {
    source: string;
    target: string;
    database: SchemaKind;
    rows: number;
    copied: boolean;
    durationMs: number | null;
    /** Within durationMs: the COPY stream, the index and key rebuilds, the load's read-back before COMMIT. */
    loadMs: number | null;
    indexMs: number | null;
    /**
     * The load's read-back before COMMIT: a range load's count(*), 0 for a whole-table load. The
     * name is kept from the load checksum it used to time, which the journal's xids replaced.
     */
    checksumMs: number | null;
  }[];
  excluded: ResolvedExclusion[];
  usersLinked: number;
  constraintsRestored: number;
  /** Target tables changed since the tool loaded them, dumped then recopied (--discard-target-changes). */
  discardedTargetChanges?: { tables: string[]; folder: string };
  verification: Omit<VerificationReport, 'snapshots'>;
  timings: SplitTimings;
};

/** What the orchestrator gathered along the way, turned into the report. */
export type SplitOutcome = {
  resumed: boolean;
  backup: { path: string; reused: boolean };
  prepared: PreparedTargets;
  tasks: CopyTask[];
  excluded: ResolvedExclusion[];
  copied: CopiedTable[];
  usersLinked: number;
  constraintsRestored: number;
  discardedTargetChanges?: { tables: string[]; folder: string };
  verification: VerificationReport;
  timings: SplitTimings;
};

export function splitReport(outcome: SplitOutcome): SplitReport {
  const { prepared, verification } = outcome;
  const copiedBy = new Map(outcome.copied.map((table) => [taskKey(table.database, table.target), table]));
  const report: SplitReport = {
    resumed: outcome.resumed,
    backup: outcome.backup,
    databases: (['auth', 'shared', 'tenant'] as const).map((kind) => ({
      name: prepared.locations[kind].database,
      kind,
      created: prepared.created.some((database) => database.kind === kind),
    })),
    societeId: prepared.societeId,
    tables: outcome.tasks.map((task) => {
      const table = copiedBy.get(taskKey(task.database, task.target));
      const verified = verification.tables.find(
        (entry) => entry.database === task.database && entry.target === task.target,
      );
      return {
        source: task.source,
        target: task.target,
        database: task.database,
        rows: verified?.targetRows ?? table?.rows ?? 0,
        copied: table !== undefined,
        durationMs: table?.durationMs ?? null,
        loadMs: table?.loadMs ?? null,
        indexMs: table?.indexMs ?? null,
        checksumMs: table?.checksumMs ?? null,
      };
    }),
    excluded: outcome.excluded,
    usersLinked: outcome.usersLinked,
    constraintsRestored: outcome.constraintsRestored,
    verification: {
      ok: verification.ok,
      problems: verification.problems,
      tables: verification.tables,
      references: verification.references,
      ...(verification.sourceReads ? { sourceReads: verification.sourceReads } : {}),
      durationMs: verification.durationMs,
    },
    timings: outcome.timings,
  };
  if (outcome.discardedTargetChanges) report.discardedTargetChanges = outcome.discardedTargetChanges;
  return report;
}

/** The failure a verification that did not pass ends the split with, naming every table and reference at fault. */
export function verificationFailure(report: SplitReport): MigrationException {
  const verification = report.verification;
  const tables = verification.tables.filter((table) => !table.ok);
  const references = verification.references.filter((reference) => !reference.ok);
  return new MigrationException(
    MigrationExceptionCode.VerificationFailed,
    [
      'verification failed:',
      ...verification.problems.map((problem) => `  ${problem}`),
      ...tables.map(
        (table) =>
          `  ${table.source} -> ${table.database}.${table.target}: ` +
          `source ${table.sourceRows} rows / ${table.sourceChecksum}, target ${table.targetRows} rows / ${table.targetChecksum}`,
      ),
      ...references.map(
        (reference) =>
          `  ${reference.reference}: ${reference.targetDangling} dangling after the split, ${reference.sourceDangling} before`,
      ),
    ].join('\n'),
    { report },
  );
}
