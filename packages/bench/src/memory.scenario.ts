import { BenchInstallation } from './bench-environment';
import { figure, Figure } from './measure';
import { ensureMonolith, migrateOnce, SplitFigures } from './split.scenario';

/** Peak memory of `db:migrate` at one scale: the CLI process alone, and with its children (pg_dump…). */
export type MemoryFigure = { scale: number; monolithMb: number; peakRssMb: Figure; peakTreeRssMb: Figure };

/** The bar: flat, and at most this much at every scale. */
export const MEMORY_LIMIT_MB = 200;

const log = (text: string) => process.stderr.write(`${text}\n`);

/**
 * `db:migrate` from scratch at each scale (the monolith generated once, kept as
 * `<prefix>_s<scale>`), sampling the CLI's peak RSS (VmHWM) and the summed RSS of its process tree.
 * A split measured by the split scenario at the same scale is reused rather than run again.
 */
export async function memoryScenario(
  installationFor: (scale: number) => BenchInstallation,
  scales: number[],
  runs: number,
  splits: SplitFigures[] = [],
): Promise<MemoryFigure[]> {
  const figures: MemoryFigure[] = [];
  for (const scale of scales) {
    const installation = installationFor(scale);
    await ensureMonolith(installation, scale);
    const [size] = await installation.query<{ size: string }>(
      'postgres',
      'SELECT pg_database_size($1) AS size',
      [installation.monolith],
    );
    const monolithMb = Math.round(Number(size.size) / 1048576);
    const measured = splits.find((split) => split.scale === scale && split.shape === 'spread');
    if (measured) {
      figures.push({
        scale,
        monolithMb,
        peakRssMb: measured.migrate.peakRssMb,
        peakTreeRssMb: measured.migrate.peakTreeRssMb,
      });
      continue;
    }
    log(`  db:migrate at scale ${scale} (${monolithMb} MB), ${runs} runs`);
    const rss: number[] = [];
    const tree: number[] = [];
    for (let index = 0; index < runs; index++) {
      const once = await migrateOnce(installation);
      rss.push(once.peakRssMb);
      tree.push(once.peakTreeRssMb);
    }
    await installation.dropTargets();
    figures.push({ scale, monolithMb, peakRssMb: figure(rss), peakTreeRssMb: figure(tree) });
  }
  return figures;
}
