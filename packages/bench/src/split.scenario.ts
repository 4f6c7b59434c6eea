import { Distribution, generateMonolith } from '@topsteel/legacy-fixture';
import { existsSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { BenchInstallation, CLI } from './bench-environment';
import { checked, figure, Figure, run } from './measure';
import { MigrateSample, SplitBreakdown, splitBreakdown, SplitTimings, TableTimings } from './split-breakdown';

export type SplitFigures = {
  scale: number;
  shape: Distribution;
  monolithMb: number;
  migrate: { copy: Figure; verify: Figure; total: Figure; peakRssMb: Figure; peakTreeRssMb: Figure };
  pgDumpRestore: Figure;
  pgcopydb: Figure | null;
  backup: { tool: Figure; pgDump: Figure };
  breakdown: SplitBreakdown;
};

const log = (text: string) => process.stderr.write(`${text}\n`);

export async function ensureMonolith(
  installation: BenchInstallation,
  scale: number,
  distribution: Distribution = 'spread',
): Promise<void> {
  if (await installation.exists(installation.monolith)) return;
  log(`  generating ${installation.monolith} at scale ${scale} (${distribution})…`);
  await generateMonolith({
    connection: { ...installation.server, database: 'postgres' },
    database: installation.monolith,
    scale,
    distribution,
  });
}

/** One `db:migrate` split from scratch (the backup already taken, so it is reused). */
export async function migrateOnce(
  installation: BenchInstallation,
): Promise<MigrateSample & { peakRssMb: number; peakTreeRssMb: number; cpuSeconds: number }> {
  await installation.dropTargets();
  const result = await checked(
    run(process.execPath, [CLI, 'migrate', '--json'], installation.env(), { tree: true }),
    'db:migrate',
  );
  const report = JSON.parse(result.stdout) as {
    split: { timings: SplitTimings; tables: TableTimings[]; backup: { reused: boolean } };
  };
  if (!report.split.backup.reused)
    log('  (no backup matched the monolith: db:migrate took one, and later runs reuse it)');
  return {
    timings: report.split.timings,
    tables: report.split.tables,
    seconds: result.seconds,
    peakRssMb: result.peakRssMb,
    peakTreeRssMb: result.peakTreeRssMb,
    cpuSeconds: result.cpuSeconds,
  };
}

/** The split at one scale, next to pg_dump | pg_restore and pgcopydb on the same data and server. */
export async function splitScenario(
  installation: BenchInstallation,
  scale: number,
  runs: number,
  shape: Distribution = 'spread',
): Promise<SplitFigures> {
  await ensureMonolith(installation, scale, shape);
  const [size] = await installation.query<{ size: string }>(
    'postgres',
    'SELECT pg_database_size($1) AS size',
    [installation.monolith],
  );

  log(`  backup: db:backup vs pg_dump -Fc (${runs} runs each)`);
  const tool: number[] = [];
  const plain: number[] = [];
  for (let index = 0; index < runs; index++) {
    await installation.dropTargets();
    tool.push(
      (
        await checked(
          run(process.execPath, [CLI, 'backup', '--monolith-only'], installation.env()),
          'db:backup',
        )
      ).seconds,
    );
    const file = join(installation.directory, 'plain.dump');
    plain.push(
      (
        await checked(
          run('pg_dump', ['-Fc', '-f', file, installation.monolith], installation.pgEnv()),
          'pg_dump',
        )
      ).seconds,
    );
    rmSync(file, { force: true });
  }

  const hasPgcopydb = (await run('sh', ['-c', 'command -v pgcopydb'], process.env)).code === 0;
  if (!hasPgcopydb) log('  pgcopydb is not installed (apt-get install pgcopydb): its comparison is skipped');
  // Interleaved (db:migrate, then pg_dump | pg_restore, then pgcopydb, in each run): a machine whose
  // speed drifts over minutes then weighs on the three alike, and the ratios compare like with like.
  log(
    `  split: db:migrate, pg_dump -Fc | pg_restore${hasPgcopydb ? ', pgcopydb clone' : ''} (${runs} runs, interleaved)`,
  );
  const copy: number[] = [];
  const verify: number[] = [];
  const total: number[] = [];
  const rss: number[] = [];
  const treeRss: number[] = [];
  const samples: MigrateSample[] = [];
  const pipe: number[] = [];
  const clone: number[] = [];
  for (let index = 0; index < runs; index++) {
    const once = await migrateOnce(installation);
    samples.push(once);
    copy.push((once.timings.copyMs + once.timings.constraintsMs) / 1000);
    verify.push(once.timings.verifyMs / 1000);
    total.push(once.seconds);
    rss.push(once.peakRssMb);
    treeRss.push(once.peakTreeRssMb);
    await installation.dropTargets();
    pipe.push(await dumpRestoreOnce(installation));
    if (hasPgcopydb) clone.push(await pgcopydbOnce(installation));
  }
  const pgcopydb: Figure | null = hasPgcopydb ? figure(clone) : null;
  if (existsSync(join(installation.directory, 'plain.dump')))
    rmSync(join(installation.directory, 'plain.dump'));

  return {
    scale,
    shape,
    monolithMb: Math.round(Number(size.size) / 1048576),
    migrate: {
      copy: figure(copy),
      verify: figure(verify),
      total: figure(total),
      peakRssMb: figure(rss),
      peakTreeRssMb: figure(treeRss),
    },
    pgDumpRestore: figure(pipe),
    pgcopydb,
    backup: { tool: figure(tool), pgDump: figure(plain) },
    breakdown: splitBreakdown(samples),
  };
}

const restoreTarget = (installation: BenchInstallation) => `${installation.monolith}_restore`;

/** The monolith into an empty database through `pg_dump -Fc | pg_restore`: the bar. */
async function dumpRestoreOnce(installation: BenchInstallation): Promise<number> {
  const target = restoreTarget(installation);
  await installation.query('postgres', `DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
  await installation.query('postgres', `CREATE DATABASE "${target}"`);
  const result = await checked(
    run(
      'sh',
      ['-c', `pg_dump -Fc "${installation.monolith}" | pg_restore --exit-on-error -d "${target}"`],
      installation.pgEnv(),
    ),
    'pg_dump | pg_restore',
  );
  await installation.query('postgres', `DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
  return result.seconds;
}

/**
 * The monolith into an empty database through `pgcopydb clone`, with as many table jobs and index
 * jobs as db:migrate's default workers (the CPU count, 2 to 8).
 */
async function pgcopydbOnce(installation: BenchInstallation): Promise<number> {
  const target = restoreTarget(installation);
  const work = join(installation.directory, 'pgcopydb');
  await installation.query('postgres', `DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
  await installation.query('postgres', `CREATE DATABASE "${target}"`);
  rmSync(work, { recursive: true, force: true });
  const uri = (database: string) =>
    `postgres://${installation.server.user}@${installation.server.host}:${installation.server.port}/${database}`;
  const jobs = String(Math.max(2, Math.min(8, cpus().length)));
  const result = await checked(
    run(
      'pgcopydb',
      [
        ...['clone', '--source', uri(installation.monolith), '--target', uri(target)],
        ...['--table-jobs', jobs, '--index-jobs', jobs, '--dir', work, '--no-owner'],
      ],
      installation.pgEnv(),
    ),
    'pgcopydb clone',
  );
  await installation.query('postgres', `DROP DATABASE IF EXISTS "${target}" WITH (FORCE)`);
  rmSync(work, { recursive: true, force: true });
  return result.seconds;
}
