import { Figure, round } from './measure';
import { renderBreakdown } from './split-breakdown';
import { SplitFigures } from './split.scenario';
import { FanOutFigures } from './fan-out.scenario';
import { MoveFigures } from './move.scenario';
import { RoutingFigures } from './routing.scenario';
import { ServersFigures } from './servers.scenario';
import { StartupFigures } from './startup.scenario';
import { onlineTargets, renderOnline } from './online-report';
import { OnlineFigures } from './online.scenario';
import { MEMORY_LIMIT_MB, MemoryFigure } from './memory.scenario';
import { BACKUP_OVERHEAD_S, FixedCostFigures, TINY_MIGRATE_S, Timed } from './fixed-costs.scenario';

/** The 1-minute load average before and after a scenario (os.loadavg: 1, 5 and 15 minutes). */
export type Load = { before: number[]; after: number[] };

export type Results = {
  date: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; postgres: string };
  /** One per data shape, spread-out monolith first. */
  splits?: SplitFigures[];
  memory?: { scales: MemoryFigure[]; load: Load };
  fanOut?: FanOutFigures;
  startup?: StartupFigures & { load?: Load };
  fixedCosts?: FixedCostFigures & { load: Load };
  routing?: RoutingFigures;
  servers?: ServersFigures;
  /** One per scale, smallest first (issues 17 and 18). */
  online?: OnlineFigures[];
  move?: MoveFigures;
  targets: { name: string; target: string; measured: string; ok: boolean }[];
};

export const ratio = (value: number, base: number) => Math.round((value / base) * 100) / 100;
const seconds = (figure: Figure) =>
  `${figure.median.toFixed(2)} s (${figure.min.toFixed(2)}–${figure.max.toFixed(2)})`;
const withCpu = (timed: Timed) => `${seconds(timed.seconds)}, CPU ${timed.cpuSeconds.median.toFixed(2)} s`;
const loadText = (load: Load | undefined) =>
  load
    ? `load average ${load.before[0].toFixed(1)} before, ${load.after[0].toFixed(1)} after`
    : 'load not recorded';

/** The issue's bar on every shape: the whole verified run against pg_dump | pg_restore and pgcopydb. */
function splitTargets(split: SplitFigures): Results['targets'] {
  const base = split.pgDumpRestore.median;
  const list: Results['targets'] = [
    {
      name: `${split.shape}: split copy phase vs pg_dump \\| pg_restore`,
      target: '≤ 1.0×',
      measured: `${ratio(split.migrate.copy.median, base)}×`,
      ok: split.migrate.copy.median <= base,
    },
    {
      name: `${split.shape}: whole db:migrate (with verification) vs pg_dump \\| pg_restore`,
      target: '≤ 1.2×',
      measured: `${ratio(split.migrate.total.median, base)}×`,
      ok: split.migrate.total.median <= 1.2 * base,
    },
    {
      name: `${split.shape}: db:backup vs pg_dump -Fc`,
      target: '≤ 1.2×',
      measured: `${ratio(split.backup.tool.median, split.backup.pgDump.median)}×`,
      ok: split.backup.tool.median <= 1.2 * split.backup.pgDump.median,
    },
  ];
  if (split.pgcopydb)
    list.push({
      name: `${split.shape}: whole db:migrate vs pgcopydb clone`,
      target: '< 1.0×',
      measured: `${ratio(split.migrate.total.median, split.pgcopydb.median)}×`,
      ok: split.migrate.total.median < split.pgcopydb.median,
    });
  return list;
}

function renderSplit(split: SplitFigures): string[] {
  const base = split.pgDumpRestore.median;
  const lines = [
    `Split of the ${split.shape} monolith at scale ${split.scale} (${split.monolithMb} MB), median of runs (min–max):`,
    '',
    `| measure | seconds | vs pg_dump \\| pg_restore |`,
    '| --- | --- | --- |',
    `| pg_dump -Fc \\| pg_restore | ${seconds(split.pgDumpRestore)} | 1.00× |`,
  ];
  lines.push(
    split.pgcopydb
      ? `| pgcopydb clone | ${seconds(split.pgcopydb)} | ${ratio(split.pgcopydb.median, base)}× |`
      : '| pgcopydb clone | not installed (apt-get install pgcopydb): not compared | |',
  );
  lines.push(
    `| db:migrate copy phase (data, indexes, foreign keys) | ${seconds(split.migrate.copy)} | ${ratio(split.migrate.copy.median, base)}× |`,
    `| db:migrate verification | ${seconds(split.migrate.verify)} | ${ratio(split.migrate.verify.median, base)}× |`,
    `| db:migrate total | ${seconds(split.migrate.total)} | ${ratio(split.migrate.total.median, base)}× |`,
    `| pg_dump -Fc (backup) | ${seconds(split.backup.pgDump)} | |`,
    `| db:backup | ${seconds(split.backup.tool)} | ${ratio(split.backup.tool.median, split.backup.pgDump.median)}× pg_dump -Fc |`,
    '',
    `Where the ${split.shape} db:migrate's time goes:`,
    '',
    ...renderBreakdown(split.breakdown),
  );
  return lines;
}

export function targets(results: Results): Results['targets'] {
  const list: Results['targets'] = [];
  for (const split of results.splits ?? []) list.push(...splitTargets(split));
  if (results.memory) {
    const scales = results.memory.scales;
    const peaks = scales.map((scale) => scale.peakTreeRssMb.max);
    list.push({
      name: `db:migrate peak RSS with its children at scales ${scales.map((scale) => scale.scale).join(', ')}`,
      target: `≤ ${MEMORY_LIMIT_MB} MB at each`,
      measured: peaks.map((peak) => `${peak} MB`).join(' / '),
      ok: peaks.every((peak) => peak <= MEMORY_LIMIT_MB),
    });
  }
  if (results.fixedCosts) {
    const fixed = results.fixedCosts;
    list.push({
      name: `db:backup at scale ${fixed.scale} vs pg_dump -Fc`,
      target: `≤ pg_dump + ${BACKUP_OVERHEAD_S} s`,
      measured: `+${round(fixed.backup.seconds.median - fixed.pgDump.seconds.median)} s`,
      ok: fixed.backup.seconds.median <= fixed.pgDump.seconds.median + BACKUP_OVERHEAD_S,
    });
    list.push({
      name: `whole db:migrate at scale ${fixed.scale}`,
      target: `≤ ${TINY_MIGRATE_S} s`,
      measured: `${fixed.migrate.seconds.median} s`,
      ok: fixed.migrate.seconds.median <= TINY_MIGRATE_S,
    });
  }
  if (results.fanOut) {
    const fan = results.fanOut;
    list.push({
      name: `fan-out, nothing pending, ${fan.tenants} tenants`,
      target: '≤ 10 s',
      measured: `${fan.nothingPending.seconds.median} s`,
      ok: fan.nothingPending.seconds.median <= 10,
    });
    const peak = Math.max(
      fan.nothingPending.peakTenantConnections,
      fan.oneNewMigration.peakTenantConnections,
    );
    list.push({
      name: 'fan-out peak tenant connections',
      target: `≤ ${fan.maxDataSources}`,
      measured: String(peak),
      ok: peak <= fan.maxDataSources,
    });
  }
  if (results.startup) {
    list.push({
      name: 'CLI --help cold start with node',
      target: '≤ 0.4 s',
      measured: `${results.startup.nodeHelp.median} s`,
      ok: results.startup.nodeHelp.median <= 0.4,
    });
    list.push({
      name: `db:status with ${results.startup.tenants} tenants`,
      target: '≤ 1.0 s',
      measured: `${results.startup.nodeStatus.median} s`,
      ok: results.startup.nodeStatus.median <= 1,
    });
  }
  if (results.routing) {
    list.push({
      name: 'routing: every request succeeds',
      target: '0 failures',
      measured: String(results.routing.failures),
      ok: results.routing.failures === 0,
    });
    const rss = results.routing.appRssAfterRoundMb;
    if (rss.length >= 2) {
      const growth = round(rss[rss.length - 1] - rss[0]);
      list.push({
        name: 'routing: app RSS growth, first round to last',
        target: '< 40 MB',
        measured: `${growth} MB`,
        ok: growth < 40,
      });
    }
  }
  if (results.servers) list.push(...serversTargets(results.servers));
  if (results.online) list.push(...onlineTargets(results.online));
  return list;
}

/** Issue 16: 1,000 tenants over 3 servers, within the per-server connection cap. */
function serversTargets(servers: ServersFigures): Results['targets'] {
  const peak = (figures: Record<string, number>[]) =>
    Math.max(...figures.flatMap((record) => Object.values(record)), 0);
  const sampled = peak([servers.nothingPending.peakSampled, servers.oneNewMigration.peakSampled]);
  const reported = peak([servers.nothingPending.peakReported, servers.oneNewMigration.peakReported]);
  return [
    {
      name: `3 servers, ${servers.tenants} tenants: db:migrate, nothing pending`,
      target: '≤ 30 s',
      measured: `${servers.nothingPending.seconds.median} s`,
      ok: servers.nothingPending.seconds.median <= 30,
    },
    {
      name: `3 servers, ${servers.tenants} tenants: db:migrate, one new tenant migration`,
      target: '≤ 60 s',
      measured: `${servers.oneNewMigration.seconds.median} s`,
      ok: servers.oneNewMigration.seconds.median <= 60,
    },
    {
      name: '3 servers: peak tenant connections on one server (pg_stat_activity / peakPerServer)',
      target: `≤ ${servers.cap}`,
      measured: `${sampled} / ${reported}`,
      ok: sampled <= servers.cap && reported <= servers.cap,
    },
  ];
}

function renderServers(servers: ServersFigures): string[] {
  const row = (what: string, measure: ServersFigures['nothingPending']) =>
    `| ${what} | ${seconds(measure.seconds)} | ${seconds(measure.cliCpuSeconds)} | ${Object.keys(
      servers.placement,
    )
      .map((name) => `${name} ${measure.peakSampled[name] ?? 0} / ${measure.peakReported[name] ?? 0}`)
      .join(', ')} |`;
  const placement = Object.entries(servers.placement)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  return [
    `${servers.tenants} tenants over 3 servers (${placement}), db:migrate --jobs ${servers.jobs}, TENANT_SERVER_MAX_CONNECTIONS=${servers.cap}, provisioned in ${servers.provisionSeconds} s; load average ${servers.loadAverage.before} before, ${servers.loadAverage.after} after:`,
    '',
    '| db:migrate | seconds | CPU of the CLI process | peak tenant connections per server (pg_stat_activity / peakPerServer) |',
    '| --- | --- | --- | --- |',
    row('nothing pending', servers.nothingPending),
    row('one new tenant migration', servers.oneNewMigration),
    ...[...servers.nothingPending.overCap, ...servers.oneNewMigration.overCap]
      .slice(0, 3)
      .map(
        (sample, index) =>
          `${index === 0 ? '\nAbove the cap, pg_stat_activity showed (pid application state database):\n\n' : ''}- ${sample}`,
      ),
  ];
}

export function render(results: Results): string {
  const lines = [
    `Benchmark ${results.date} — ${results.machine.cores} × ${results.machine.cpu}, ${results.machine.memoryGb} GB, PostgreSQL ${results.machine.postgres}, Node ${results.machine.node}`,
    '',
  ];
  for (const split of results.splits ?? []) lines.push(...renderSplit(split), '');
  if (results.memory)
    lines.push(
      `Peak RSS of db:migrate (the CLI / with its children, max of runs; ${loadText(results.memory.load)}): ${results.memory.scales
        .map(
          (scale) =>
            `${scale.peakRssMb.max} / ${scale.peakTreeRssMb.max} MB at scale ${scale.scale} (${scale.monolithMb} MB)`,
        )
        .join(', ')}`,
      '',
    );
  if (results.fixedCosts) {
    const fixed = results.fixedCosts;
    lines.push(
      `Fixed costs at scale ${fixed.scale} (${fixed.monolithMb} MB; ${loadText(fixed.load)}): db:backup ${withCpu(fixed.backup)}; pg_dump -Fc ${withCpu(fixed.pgDump)}; whole db:migrate ${withCpu(fixed.migrate)}`,
      '',
    );
  }
  if (results.fanOut) {
    const fan = results.fanOut;
    lines.push(
      `Fan-out over ${fan.tenants} tenants (TENANT_MAX_DATASOURCES=${fan.maxDataSources}): nothing pending ${seconds(fan.nothingPending.seconds)}, peak ${fan.nothingPending.peakTenantConnections} tenant connections; one new migration ${seconds(fan.oneNewMigration.seconds)}, peak ${fan.oneNewMigration.peakTenantConnections}`,
      '',
    );
  }
  if (results.startup)
    lines.push(
      `Start-up (${loadText(results.startup.load)}): npm run db:status -- --help ${seconds(results.startup.npmHelp)}; node cli status --help ${seconds(results.startup.nodeHelp)}; node cli status with ${results.startup.tenants} tenants ${seconds(results.startup.nodeStatus)}${results.startup.nodeStatusCpu ? `, CPU ${results.startup.nodeStatusCpu.median.toFixed(2)} s` : ''}`,
      '',
    );
  if (results.routing) {
    const routing = results.routing;
    lines.push(
      `Routing: ${routing.requests} × GET /tenant/clients over ${routing.societes} sociétés, ${routing.concurrency} concurrent, TENANT_MAX_DATASOURCES=${routing.maxDataSources}: p50 ${routing.p50Ms.median} ms, p99 ${routing.p99Ms.median} ms, ${routing.requestsPerSecond.median} req/s, ${routing.failures} failures, app RSS after each round ${routing.appRssAfterRoundMb.join(' / ')} MB`,
      '',
    );
  }
  if (results.servers) lines.push(...renderServers(results.servers), '');
  if (results.online && results.online.length > 0) lines.push(...renderOnline(results.online), '');
  if (results.move) lines.push(...renderMove(results.move), '');
  lines.push('| target | required | measured | |', '| --- | --- | --- | --- |');
  for (const target of results.targets)
    lines.push(`| ${target.name} | ${target.target} | ${target.measured} | ${target.ok ? '✅' : '❌'} |`);
  return lines.join('\n');
}

function renderMove(move: MoveFigures): string[] {
  const base = move.pgDumpRestore.median;
  return [
    `Moving a société with ${move.commandes} commandes (${move.databaseMb} MB) to a second server, median of runs (min–max):`,
    '',
    '| measure | seconds | vs pg_dump \\| pg_restore |',
    '| --- | --- | --- |',
    `| pg_dump -Fc \\| pg_restore onto the other server | ${seconds(move.pgDumpRestore)} | 1.00× |`,
    `| db:societe:move, whole command | ${seconds(move.move)} | ${ratio(move.move.median, base)}× |`,
    `| of which the société answered 503 (mark → switch) | ${seconds(move.unavailable)} | ${ratio(move.unavailable.median, base)}× |`,
    ...Object.entries(move.steps).map(
      ([step, value]) => `| step ${step} | ${seconds(value)} | ${ratio(value.median, base)}× |`,
    ),
  ];
}
