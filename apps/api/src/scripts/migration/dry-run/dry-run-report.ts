import { Check } from '../../../common/run/check';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { JobsDecision } from '../copy/connection-budget.service';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { Finding } from '../plan/finding';
import { ResolvedExclusion, ResolvedPlan } from '../plan/plan-resolver';
import { CutReference, NewTable } from '../plan/plan.types';

export type PlannedDatabase = {
  name: string;
  kind: SchemaKind;
  action: 'create' | 'adopt' | 'resume' | 'complete' | 'refused';
  reason?: string;
};

export type DryRunReport = {
  ok: boolean;
  checks: Check[];
  plan: {
    databases: PlannedDatabase[];
    tables: { source: string; target: string; database: SchemaKind; rows: number }[];
    excluded: ResolvedExclusion[];
    cutReferences: CutReference[];
    newTables: NewTable[];
    totalRows: number;
  };
  findings: Finding[];
  notes: string[];
  /** The --jobs db:migrate would use, fitted to the free connections (absent when the server was not reached). */
  jobs?: JobsDecision;
};

export type DryRunOptions = {
  excludeTables?: string[];
  jobs?: number;
  /**
   * false: the plan's row counts are the catalogue's estimates, except `users` (its check names
   * them). db:migrate shows none of them, and counting every table exactly is a full read of the
   * monolith (0.8 s of its 23 at scale 1000); the dry run and the audit count.
   */
  exactCounts?: boolean;
};

/** What migrate needs from a passed pre-flight: the resolved plan and the row counts it showed. */
export type Preflight = { report: DryRunReport; plan: ResolvedPlan | null; splitComplete: boolean };

export type PlannedWork = {
  databases: PlannedDatabase[];
  tables: DryRunReport['plan']['tables'];
  excluded: ResolvedExclusion[];
};

export function dryRunReport(
  checks: Check[],
  planned: PlannedWork | null,
  extras: { findings?: Finding[]; notes?: string[]; jobs?: JobsDecision } = {},
): DryRunReport {
  const tables = planned?.tables ?? [];
  const report: DryRunReport = {
    ok: checks.every((entry) => entry.ok),
    checks,
    plan: {
      databases: planned?.databases ?? [],
      tables,
      excluded: planned?.excluded ?? [],
      cutReferences: DEFAULT_PLAN.cutReferences,
      newTables: DEFAULT_PLAN.newTables,
      totalRows: tables.reduce((sum, table) => sum + table.rows, 0),
    },
    findings: extras.findings ?? [],
    notes: extras.notes ?? [],
  };
  if (extras.jobs) report.jobs = extras.jobs;
  return report;
}
