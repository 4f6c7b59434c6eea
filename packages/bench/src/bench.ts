#!/usr/bin/env node
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchInstallation, benchServer, ROOT } from './bench-environment';
import { fanOutScenario, provisionTenants } from './fan-out.scenario';
import { DISTRIBUTIONS, Distribution } from '@topsteel/legacy-fixture';
import { fixedCostsScenario } from './fixed-costs.scenario';
import { memoryScenario } from './memory.scenario';
import { appendHistory } from './history';
import { render, Results, targets } from './report';
import { routingScenario } from './routing.scenario';
import { ensureMonolith, migrateOnce, splitScenario } from './split.scenario';
import { startupScenario } from './startup.scenario';

const usage = `npm run bench -- [--scale 1000] [--small-scale 100] [--runs 3] [--tenants 200]
                     [--only split,memory,fanout,startup,routing,fixed] [--shapes ${DISTRIBUTIONS.join(',')}]
                     [--memory-scales 100,1000] [--tiny-scale 1] [--prefix bench] [--history docs/benchmarks.md|none]

Generates monoliths with the legacy fixture (kept as bench_s<scale> for later runs; the
one-large-table shape as bench_s<scale>_one_large_table), then measures on the PostgreSQL named by
PG* (default 127.0.0.1:5432): the split of each shape against pg_dump | pg_restore (and pgcopydb
when installed) with the step breakdown of db:migrate, db:backup against pg_dump -Fc, peak memory of
db:migrate and its children at each of --memory-scales (default: --small-scale and --scale), the
tenant fan-out, CLI start-up, HTTP routing, and the fixed costs of db:backup and db:migrate on a
--tiny-scale monolith. --prefix names the databases (<prefix>_s<scale>…) so that runs on a shared
server stay apart. Results: bench/results/<date>.json, a table on stdout, and one row of the main
ratios appended to the history in docs/benchmarks.md. Each scenario records the load average
before and after it: on a shared machine, read its seconds with that in mind.`;

const log = (text: string) => process.stderr.write(`${text}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1000' },
      'small-scale': { type: 'string' },
      runs: { type: 'string', default: '3' },
      tenants: { type: 'string', default: '200' },
      only: { type: 'string' },
      shapes: { type: 'string', default: DISTRIBUTIONS.join(',') },
      history: { type: 'string', default: 'docs/benchmarks.md' },
      'memory-scales': { type: 'string' },
      'tiny-scale': { type: 'string', default: '1' },
      prefix: { type: 'string', default: 'bench' },
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
  const only = new Set((values.only ?? 'split,memory,fanout,startup,routing,fixed').split(','));
  const memoryScales = (values['memory-scales'] ?? `${smallScale},${scale}`).split(',').map(Number);
  const tinyScale = Number(values['tiny-scale']);
  const shapes = values.shapes.split(',') as Distribution[];
  const unknownShape = shapes.find((shape) => !DISTRIBUTIONS.includes(shape));
  if (unknownShape !== undefined) {
    process.stderr.write(`--shapes: unknown shape ${unknownShape} (${DISTRIBUTIONS.join(', ')})\n`);
    return 2;
  }
  const server = benchServer();
  const installationAt = (at: number) =>
    new BenchInstallation(server, `s${String(at).replace('.', '_')}`, values.prefix);
  const large = installationAt(scale);
  const small = installationAt(smallScale);
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
    results.splits = [];
    for (const shape of shapes) {
      log(`Split of the ${shape} monolith at scale ${scale}`);
      const installation =
        shape === 'spread'
          ? large
          : new BenchInstallation(server, `${large.label}_${shape.replaceAll('-', '_')}`, values.prefix);
      results.splits.push(await splitScenario(installation, scale, runs, shape));
    }
  }
  if (only.has('memory')) {
    log(`Memory: db:migrate at scales ${memoryScales.join(', ')}`);
    const before = loadavg();
    const scales = await memoryScenario(installationAt, memoryScales, runs, results.splits);
    results.memory = { scales, load: { before, after: loadavg() } };
  }
  if (only.has('fixed')) {
    log(`Fixed costs: db:backup and db:migrate at scale ${tinyScale}`);
    const before = loadavg();
    const figures = await fixedCostsScenario(installationAt(tinyScale), tinyScale, Math.max(runs, 5));
    results.fixedCosts = { ...figures, load: { before, after: loadavg() } };
  }
  if (only.has('fanout') || only.has('routing') || only.has('startup')) {
    await ensureMonolith(small, smallScale);
    if (!(await small.exists(small.auth))) await migrateOnce(small);
  }
  if (only.has('fanout')) {
    log(`Fan-out over ${tenants} tenants`);
    results.fanOut = await fanOutScenario(small, tenants, 10, runs);
  }
  if (only.has('startup')) {
    log('Start-up');
    const before = loadavg();
    results.startup = {
      ...(await startupScenario(small, Math.max(runs, 5))),
      load: { before, after: loadavg() },
    };
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
  if (values.history !== 'none') {
    appendHistory(resolve(ROOT, values.history), results, scale);
    process.stdout.write(`History: a row appended to ${values.history}\n`);
  }
  return results.targets.every((target) => target.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
