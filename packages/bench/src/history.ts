import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ratio, Results } from './report';

/** The line the bench inserts its rows above, at the end of the history table. */
export const HISTORY_MARKER = '<!-- npm run bench appends its row above this line -->';

const HISTORY_SECTION = [
  '## History',
  '',
  'One row per `npm run bench` run (the bench appends it; `--history none` skips it). Ratios are',
  'medians against `pg_dump -Fc | pg_restore` on the same data and server; a regression shows as a',
  'ratio that grows from one row to the next.',
  '',
  // The rows are not column-aligned: prettier would rewrite the table on every run.
  '<!-- prettier-ignore-start -->',
  '| date | machine | scale | shape | db:migrate ÷ pg_restore | ÷ pgcopydb | copy ÷ pg_restore | verify ÷ pg_restore | db:backup ÷ pg_dump | --help s | db:status s | 3 servers: tenants, idle s / new migration s, peak per server |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  HISTORY_MARKER,
  '<!-- prettier-ignore-end -->',
];

/** `1000: 12.3 / 25.1, peak 4`: the issue-16 figures, or empty when the scenario did not run. */
function serversCell(results: Results): string {
  const servers = results.servers;
  if (!servers) return '';
  const peak = Math.max(
    ...[servers.nothingPending, servers.oneNewMigration].flatMap((measure) => [
      ...Object.values(measure.peakSampled),
      ...Object.values(measure.peakReported),
    ]),
  );
  return `${servers.tenants}: ${servers.nothingPending.seconds.median.toFixed(1)} / ${servers.oneNewMigration.seconds.median.toFixed(1)}, peak ${peak} (load ${servers.loadAverage.before})`;
}

/** One row per shape measured in this run; start-up figures go with every row. */
export function historyRows(results: Results, scale: number): string[] {
  const machine = `${results.machine.cores} × ${results.machine.cpu.replace(/\s+/g, ' ').trim()}, PG ${results.machine.postgres}, Node ${results.machine.node}`;
  const help = results.startup ? results.startup.nodeHelp.median.toFixed(2) : '';
  const status = results.startup
    ? `${results.startup.nodeStatus.median.toFixed(2)} (${results.startup.tenants} tenants)`
    : '';
  const servers = serversCell(results);
  const splits = results.splits ?? [];
  if (splits.length === 0)
    return [
      `| ${results.date.slice(0, 16)} | ${machine} | ${scale} | – | | | | | | ${help} | ${status} | ${servers} |`,
    ];
  return splits.map((split) => {
    const base = split.pgDumpRestore.median;
    const cells = [
      results.date.slice(0, 16),
      machine,
      String(split.scale),
      `${split.shape} (${split.monolithMb} MB)`,
      `${ratio(split.migrate.total.median, base)}×`,
      split.pgcopydb ? `${ratio(split.migrate.total.median, split.pgcopydb.median)}×` : '',
      `${ratio(split.migrate.copy.median, base)}×`,
      `${ratio(split.migrate.verify.median, base)}×`,
      `${ratio(split.backup.tool.median, split.backup.pgDump.median)}×`,
      help,
      status,
      servers,
    ];
    return `| ${cells.join(' | ')} |`;
  });
}

/** Appends this run's rows to the history table of the file, adding the section when it has none. */
export function appendHistory(file: string, results: Results, scale: number): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const withSection = text.includes(HISTORY_MARKER)
    ? text
    : `${text.trimEnd()}\n\n${HISTORY_SECTION.join('\n')}\n`;
  const rows = historyRows(results, scale).join('\n');
  writeFileSync(file, withSection.replace(HISTORY_MARKER, `${rows}\n${HISTORY_MARKER}`));
}
