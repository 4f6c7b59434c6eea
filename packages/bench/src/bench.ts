#!/usr/bin/env node
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchInstallation, benchServer, ROOT } from './bench-environment';
import { fanOutScenario, FanOutFigures, provisionTenants } from './fan-out.scenario';
import { figure, Figure, round } from './measure';
import { RoutingFigures, routingScenario } from './routing.scenario';
import { ensureMonolith, migrateOnce, splitScenario, SplitFigures } from './split.scenario';
import { startupScenario, StartupFigures } from './startup.scenario';

type Results = {
  date: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; postgres: string };
  split?: SplitFigures;
  memory?: { scales: [number, number]; peakRssMb: [Figure, Figure] };
  fanOut?: FanOutFigures;
  startup?: StartupFigures;
  routing?: RoutingFigures;
  targets: { name: string; target: string; measured: string; ok: boolean }[];
};

const usage = `npm run bench -- [--scale 1000] [--small-scale 100] [--runs 3] [--tenants 200] [--only split,memory,fanout,startup,routing]

Generates monoliths with the legacy fixture (kept as bench_s<scale> for later runs), then measures on
the PostgreSQL named by PG* (default 127.0.0.1:5432): the split against pg_dump | pg_restore (and
pgcopydb when installed), db:backup against pg_dump -Fc, peak memory at two scales, the tenant
fan-out, CLI start-up and HTTP routing. Results: bench/results/<date>.json and a table on stdout.`;

const log = (text: string) => process.stderr.write(`${text}\n`);
const ratio = (value: number, base: number) => Math.round((value / base) * 100) / 100;
const seconds = (figure: Figure) =>
  `${figure.median.toFixed(2)} s (${figure.min.toFixed(2)}–${figure.max.toFixed(2)})`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1000' },
      'small-scale': { type: 'string' },
      runs: { type: 'string', default: '3' },
      tenants: { type: 'string', default: '200' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const scale = Number(values.scale);
  const smallScale = Number(values['small-scale'] ?? scale / 10);
  const runs = Number(values.runs);
  const tenants = Number(values.tenants);
  const only = new Set((values.only ?? 'split,memory,fanout,startup,routing').split(','));
  const server = benchServer();
  const large = new BenchInstallation(server, `s${String(scale).replace('.', '_')}`);
  const small = new BenchInstallation(server, `s${String(smallScale).replace('.', '_')}`);
  const [version] = await large.query<{ server_version: string }>('postgres', 'SHOW server_version');
  const results: Results = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: version.server_version,
    },
    targets: [],
  };

  if (only.has('split')) {
    log(`Split at scale ${scale}`);
    results.split = await splitScenario(large, scale, runs);
  }
  if (only.has('memory')) {
    log(`Memory: db:migrate at scales ${smallScale} and ${scale}`);
    await ensureMonolith(small, smallScale);
    const smallRss: number[] = [];
    for (let index = 0; index < runs; index++) smallRss.push((await migrateOnce(small)).peakRssMb);
    const largeRss =
      results.split?.migrate.peakRssMb ??
      (await (async () => {
        await ensureMonolith(large, scale);
        const values: number[] = [];
        for (let index = 0; index < runs; index++) values.push((await migrateOnce(large)).peakRssMb);
        await large.dropTargets();
        return figure(values);
      })());
    results.memory = { scales: [smallScale, scale], peakRssMb: [figure(smallRss), largeRss] };
  }
  if (only.has('fanout') || only.has('routing')) {
    await ensureMonolith(small, smallScale);
    if (!(await small.exists(small.auth))) await migrateOnce(small);
  }
  if (only.has('fanout')) {
    log(`Fan-out over ${tenants} tenants`);
    results.fanOut = await fanOutScenario(small, tenants, 10, runs);
  }
  if (only.has('startup')) {
    log('Start-up');
    results.startup = await startupScenario(small, Math.max(runs, 5));
  }
  if (only.has('routing')) {
    log('Routing: GET /tenant/clients over 50 sociétés, TENANT_MAX_DATASOURCES=10');
    const codes = ['TOPSTEEL', ...(await provisionTenants(small, 50))].slice(0, 50);
    results.routing = await routingScenario(small, codes, {
      requests: 2000,
      concurrency: 16,
      maxDataSources: 10,
      runs,
    });
  }

  results.targets = targets(results);
  const folder = join(ROOT, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${results.date.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${render(results)}\n\nResults: ${file}\n`);
  return results.targets.every((target) => target.ok) ? 0 : 1;
}

function targets(results: Results): Results['targets'] {
  const list: Results['targets'] = [];
  const split = results.split;
  if (split) {
    const base = split.pgDumpRestore.median;
    list.push({
      name: 'split copy phase vs pg_dump \\| pg_restore',
      target: '≤ 1.0×',
      measured: `${ratio(split.migrate.copy.median, base)}×`,
      ok: split.migrate.copy.median <= base,
    });
    list.push({
      name: 'whole db:migrate (with verification) vs pg_dump \\| pg_restore',
      target: '≤ 1.5×',
      measured: `${ratio(split.migrate.total.median, base)}×`,
      ok: split.migrate.total.median <= 1.5 * base,
    });
    list.push({
      name: 'db:backup vs pg_dump -Fc',
      target: '≤ 1.2×',
      measured: `${ratio(split.backup.tool.median, split.backup.pgDump.median)}×`,
      ok: split.backup.tool.median <= 1.2 * split.backup.pgDump.median,
    });
  }
  if (results.memory) {
    const [smallRss, largeRss] = results.memory.peakRssMb;
    list.push({
      name: `db:migrate peak RSS at scales ${results.memory.scales.join(' and ')}`,
      target: '≤ 256 MB, flat',
      measured: `${smallRss.max} MB / ${largeRss.max} MB`,
      ok: Math.max(smallRss.max, largeRss.max) <= 256,
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
      target: '≤ 1 s',
      measured: `${results.startup.nodeHelp.median} s`,
      ok: results.startup.nodeHelp.median <= 1,
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
  return list;
}

function render(results: Results): string {
  const lines = [
    `Benchmark ${results.date} — ${results.machine.cores} × ${results.machine.cpu}, ${results.machine.memoryGb} GB, PostgreSQL ${results.machine.postgres}, Node ${results.machine.node}`,
    '',
  ];
  const split = results.split;
  if (split) {
    const base = split.pgDumpRestore.median;
    lines.push(
      `Split at scale ${split.scale} (${split.monolithMb} MB monolith), median of runs (min–max):`,
      '',
    );
    lines.push(`| measure | seconds | vs pg_dump \\| pg_restore |`, '| --- | --- | --- |');
    lines.push(`| pg_dump -Fc \\| pg_restore | ${seconds(split.pgDumpRestore)} | 1.00× |`);
    if (split.pgcopydb)
      lines.push(`| pgcopydb clone | ${seconds(split.pgcopydb)} | ${ratio(split.pgcopydb.median, base)}× |`);
    lines.push(
      `| db:migrate copy phase (data, indexes, foreign keys) | ${seconds(split.migrate.copy)} | ${ratio(split.migrate.copy.median, base)}× |`,
    );
    lines.push(
      `| db:migrate verification | ${seconds(split.migrate.verify)} | ${ratio(split.migrate.verify.median, base)}× |`,
    );
    lines.push(
      `| db:migrate total | ${seconds(split.migrate.total)} | ${ratio(split.migrate.total.median, base)}× |`,
    );
    lines.push(`| pg_dump -Fc (backup) | ${seconds(split.backup.pgDump)} | |`);
    lines.push(
      `| db:backup | ${seconds(split.backup.tool)} | ${ratio(split.backup.tool.median, split.backup.pgDump.median)}× pg_dump -Fc |`,
      '',
    );
  }
  if (results.memory)
    lines.push(
      `Peak RSS of db:migrate: ${results.memory.peakRssMb[0].max} MB at scale ${results.memory.scales[0]}, ${results.memory.peakRssMb[1].max} MB at scale ${results.memory.scales[1]}`,
      '',
    );
  if (results.fanOut) {
    const fan = results.fanOut;
    lines.push(
      `Fan-out over ${fan.tenants} tenants (TENANT_MAX_DATASOURCES=${fan.maxDataSources}): nothing pending ${seconds(fan.nothingPending.seconds)}, peak ${fan.nothingPending.peakTenantConnections} tenant connections; one new migration ${seconds(fan.oneNewMigration.seconds)}, peak ${fan.oneNewMigration.peakTenantConnections}`,
      '',
    );
  }
  if (results.startup)
    lines.push(
      `Start-up: npm run db:status -- --help ${seconds(results.startup.npmHelp)}; node cli status --help ${seconds(results.startup.nodeHelp)}; node cli status ${seconds(results.startup.nodeStatus)}`,
      '',
    );
  if (results.routing) {
    const routing = results.routing;
    lines.push(
      `Routing: ${routing.requests} × GET /tenant/clients over ${routing.societes} sociétés, ${routing.concurrency} concurrent, TENANT_MAX_DATASOURCES=${routing.maxDataSources}: p50 ${routing.p50Ms.median} ms, p99 ${routing.p99Ms.median} ms, ${routing.requestsPerSecond.median} req/s, ${routing.failures} failures, app RSS after each round ${routing.appRssAfterRoundMb.join(' / ')} MB`,
      '',
    );
  }
  lines.push('| target | required | measured | |', '| --- | --- | --- | --- |');
  for (const target of results.targets)
    lines.push(`| ${target.name} | ${target.target} | ${target.measured} | ${target.ok ? '✅' : '❌'} |`);
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
