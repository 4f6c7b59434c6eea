import { figure, Figure } from './measure';

/** The split's own timings, as `db:migrate --json` reports them (report.split.timings). */
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

/** One table of the report (report.split.tables): its copy and where that time went. */
export type TableTimings = {
  target: string;
  database: string;
  rows: number;
  durationMs: number | null;
  loadMs: number | null;
  indexMs: number | null;
  /** The load's read-back before COMMIT (a range load's count; 0 for a whole-table load): see the migrate report. */
  checksumMs: number | null;
};

/** One `db:migrate` run: the process's wall time and what the report says about its steps. */
export type MigrateSample = { seconds: number; timings: SplitTimings; tables: TableTimings[] };

export type StepFigure = { step: string; seconds: Figure };

export type TableFigure = {
  table: string;
  rows: number;
  seconds: Figure;
  loadSeconds: Figure;
  indexSeconds: Figure;
  checksumSeconds: Figure;
};

/** Medians over the runs of every step of the run, and of the largest tables' copies. */
export type SplitBreakdown = { steps: StepFigure[]; tables: TableFigure[] };

// The steps in the order they run; start-up is what the process spent outside the split itself
// (Node and Nest start, configuration, connection budget, the lock, the report's rendering).
const STEPS: { step: string; seconds: (sample: MigrateSample) => number }[] = [
  { step: 'start-up and outside the split', seconds: (s) => s.seconds - s.timings.totalMs / 1000 },
  { step: 'pre-flight', seconds: (s) => s.timings.preflightMs / 1000 },
  { step: 'databases (create + migrate)', seconds: (s) => s.timings.prepareMs / 1000 },
  { step: 'backup match', seconds: (s) => s.timings.backupMs / 1000 },
  { step: 'copy (all tables, --jobs workers)', seconds: (s) => s.timings.copyMs / 1000 },
  { step: '  of which index builds (summed over tables)', seconds: (s) => s.timings.indexMs / 1000 },
  { step: 'foreign keys', seconds: (s) => s.timings.constraintsMs / 1000 },
  { step: 'link users', seconds: (s) => s.timings.linkUsersMs / 1000 },
  { step: 'analyze (from the last table in, beside the keys)', seconds: (s) => s.timings.analyzeMs / 1000 },
  {
    step: 'verification (from the users linked, beside the keys)',
    seconds: (s) => s.timings.verifyMs / 1000,
  },
  { step: 'journal', seconds: (s) => s.timings.journalMs / 1000 },
  { step: 'whole db:migrate', seconds: (s) => s.seconds },
];

const LARGEST_TABLES = 5;

const seconds = (milliseconds: number | null) => (milliseconds ?? 0) / 1000;

export function splitBreakdown(samples: MigrateSample[]): SplitBreakdown {
  const steps = STEPS.map(({ step, seconds: of }) => ({ step, seconds: figure(samples.map(of)) }));
  const [first] = samples;
  const keyOf = (table: TableTimings) => `${table.database}.${table.target}`;
  const largest = [...(first?.tables ?? [])]
    .sort((left, right) => (right.durationMs ?? 0) - (left.durationMs ?? 0))
    .slice(0, LARGEST_TABLES);
  const tables = largest.map((table) => {
    const runs = samples.map(
      (sample) => sample.tables.find((candidate) => keyOf(candidate) === keyOf(table)) ?? table,
    );
    return {
      table: keyOf(table),
      rows: table.rows,
      seconds: figure(runs.map((entry) => seconds(entry.durationMs))),
      loadSeconds: figure(runs.map((entry) => seconds(entry.loadMs))),
      indexSeconds: figure(runs.map((entry) => seconds(entry.indexMs))),
      checksumSeconds: figure(runs.map((entry) => seconds(entry.checksumMs))),
    };
  });
  return { steps, tables };
}

/** The breakdown as markdown: one row per step, then the largest tables' copies. */
export function renderBreakdown(breakdown: SplitBreakdown): string[] {
  const lines = ['| step | seconds (median) |', '| --- | --- |'];
  for (const { step, seconds: value } of breakdown.steps)
    lines.push(`| ${step} | ${value.median.toFixed(2)} |`);
  lines.push(
    '',
    '| largest tables | rows | copy s | of which load | index | read-back |',
    '| --- | --- | --- | --- | --- | --- |',
  );
  for (const table of breakdown.tables)
    lines.push(
      `| ${table.table} | ${table.rows} | ${table.seconds.median.toFixed(2)} | ${table.loadSeconds.median.toFixed(2)} | ${table.indexSeconds.median.toFixed(2)} | ${table.checksumSeconds.median.toFixed(2)} |`,
    );
  return lines;
}
