import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { BenchInstallation, CLI } from './bench-environment';
import { checked, figure, Figure, run } from './measure';
import { ensureMonolith, migrateOnce } from './split.scenario';

/** Wall and CPU seconds (the process and its children) of one command, median of runs. */
export type Timed = { seconds: Figure; cpuSeconds: Figure };

export type FixedCostFigures = {
  scale: number;
  monolithMb: number;
  backup: Timed;
  pgDump: Timed;
  migrate: Timed;
};

/** The bars on a tiny monolith, where start-up and per-step costs are all there is. */
export const BACKUP_OVERHEAD_S = 0.6;
export const TINY_MIGRATE_S = 2.5;

const timed = (samples: { seconds: number; cpuSeconds: number }[]): Timed => ({
  seconds: figure(samples.map((sample) => sample.seconds)),
  cpuSeconds: figure(samples.map((sample) => sample.cpuSeconds)),
});

/**
 * Fixed costs: db:backup against pg_dump -Fc of the same tiny monolith, and a whole db:migrate
 * (start-up, pre-flight, databases, backup match, copy, verification) from scratch.
 */
export async function fixedCostsScenario(
  installation: BenchInstallation,
  scale: number,
  runs: number,
): Promise<FixedCostFigures> {
  await ensureMonolith(installation, scale);
  const [size] = await installation.query<{ size: string }>(
    'postgres',
    'SELECT pg_database_size($1) AS size',
    [installation.monolith],
  );
  const backup: { seconds: number; cpuSeconds: number }[] = [];
  const pgDump: { seconds: number; cpuSeconds: number }[] = [];
  const file = join(installation.directory, 'plain.dump');
  for (let index = 0; index < runs; index++) {
    backup.push(
      await checked(
        run(process.execPath, [CLI, 'backup', '--monolith-only'], installation.env()),
        'db:backup',
      ),
    );
    pgDump.push(
      await checked(
        run('pg_dump', ['-Fc', '-f', file, installation.monolith], installation.pgEnv()),
        'pg_dump',
      ),
    );
    rmSync(file, { force: true });
  }
  const migrate: { seconds: number; cpuSeconds: number }[] = [];
  for (let index = 0; index < runs; index++) migrate.push(await migrateOnce(installation));
  await installation.dropTargets();
  return {
    scale,
    monolithMb: Math.round(Number(size.size) / 1048576),
    backup: timed(backup),
    pgDump: timed(pgDump),
    migrate: timed(migrate),
  };
}
