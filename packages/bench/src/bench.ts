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
import { moveScenario } from './move.scenario';
import { routingScenario } from './routing.scenario';
import { serversScenario } from './servers.scenario';
import { ensureMonolith, migrateOnce, splitScenario } from './split.scenario';
import { startupScenario } from './startup.scenario';
import { withBenchCluster } from './bench-cluster';
import { OnlineFigures, onlineScenario } from './online.scenario';

const usage = `npm run bench -- [--scale 1000] [--small-scale 100] [--runs 3] [--tenants 200] [--server-tenants 1000]
                     [--only split,memory,fanout,startup,routing,fixed,servers,move,online] [--move-scale 1000]
                     [--shapes ${DISTRIBUTIONS.join(',')}] [--memory-scales 100,1000] [--tiny-scale 1] [--prefix bench]
                     [--history docs/benchmarks.md|none]
                     [--online-scales 100,1000] [--online-rate 200] [--online-follow-limit 120]

Generates monoliths with the legacy fixture (kept as bench_s<scale> for later runs; the
one-large-table shape as bench_s<scale>_one_large_table), then measures on the PostgreSQL named by
PG* (default 127.0.0.1:5432): the split of each shape against pg_dump | pg_restore (and pgcopydb
when installed) with the step breakdown of db:migrate, db:backup against pg_dump -Fc, peak memory of
db:migrate and its children at each of --memory-scales (default: --small-scale and --scale), the
tenant fan-out, CLI start-up, HTTP routing, the fixed costs of db:backup and db:migrate on a
--tiny-scale monolith, and db:migrate over --server-tenants sociétés on the default server plus two
clusters the bench starts (initdb/pg_ctl) and removes (bench_servers, a scale-1 monolith). The online
scenario (only when named in --only) starts its own PostgreSQL 15 cluster with wal_level=logical
(binaries from BENCH_PG_BIN_DIR, default /usr/lib/postgresql/15/bin) and, at each of
--online-scales, measures db:migrate -- --online under --online-rate transactions/s against the
offline split (a follow still behind after --online-follow-limit seconds is interrupted and counts
as a missed target), then db:rollback under the same load. The move scenario times db:societe:move
of the default société (--move-scale × 1,000 commandes) to a throwaway second server against
pg_dump | pg_restore. --prefix names the databases (<prefix>_s<scale>…) so that runs on a shared
server stay apart. Results: bench/results/<date>.json, a table on stdout, and one row of the main
ratios appended to the history in docs/benchmarks.md. Each scenario records the load average
before and after it: on a shared machine, read its seconds with that in mind.`;

const log = (text: string) => process.stderr.write(`${text}\n`);

/**
 * The online scenario's cluster: wal_level=logical (the server the other scenarios measure has
 * replica, and changing it needs a restart), otherwise the system server's memory and WAL settings
 * (shared_buffers 128 MB, max_wal_size 1 GB, fsync on) so that its offline split compares with the
 * other scenarios' figures.
 */
const LOGICAL_SETTINGS = {
  wal_level: 'logical',
  max_wal_senders: 10,
  max_replication_slots: 10,
  max_connections: 100,
  shared_buffers: '128MB',
  max_wal_size: '1GB',
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '1000' },
      'small-scale': { type: 'string' },
      runs: { type: 'string', default: '3' },
      tenants: { type: 'string', default: '200' },
      'server-tenants': { type: 'string', default: '1000' },
      'move-scale': { type: 'string' },
      only: { type: 'string' },
      shapes: { type: 'string', default: DISTRIBUTIONS.join(',') },
      history: { type: 'string', default: 'docs/benchmarks.md' },
      'online-scales': { type: 'string', default: '100,1000' },
      'online-rate': { type: 'string', default: '200' },
      'online-follow-limit': { type: 'string', default: '120' },
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
  const only = new Set((values.only ?? 'split,memory,fanout,startup,routing,fixed,servers,move').split(','));
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

  if (only.has('servers')) {
    const serverTenants = Number(values['server-tenants']);
    log(`Tenants over 3 servers: ${serverTenants} sociétés, db:migrate fan-out`);
    results.servers = await serversScenario(server, serverTenants, runs);
  }

  if (only.has('online')) {
    const scales = values['online-scales'].split(',').map(Number);
    results.online = await withBenchCluster({ settings: LOGICAL_SETTINGS }, async (logical) => {
      const figures: OnlineFigures[] = [];
      for (const onlineScale of scales) {
        log(
          `Online split at scale ${onlineScale} under ${values['online-rate']} tx/s (wal_level=logical cluster on port ${logical.port})`,
        );
        figures.push(
          await onlineScenario(
            logical,
            onlineScale,
            runs,
            Number(values['online-rate']),
            Number(values['online-follow-limit']),
          ),
        );
      }
      return figures;
    });
  }

  if (only.has('move')) {
    const moveScale = Number(values['move-scale'] ?? scale);
    log(`Move: db:societe:move of a société with ${moveScale * 1000} commandes to a second server`);
    // Its own installation: the split scenario drops the targets of the others between runs.
    const installation = new BenchInstallation(server, `move_s${String(moveScale).replace('.', '_')}`);
    results.move = await moveScenario(installation, moveScale, runs);
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
