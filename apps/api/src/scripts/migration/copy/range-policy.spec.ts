import { CopyTask } from '../plan/plan-resolver';
import { tablesInRanges } from './range-policy';

const MB = 1024 * 1024;
const table = (target: string, megabytes: number) => ({ target, sizeBytes: megabytes * MB }) as CopyTask;
const names = (tasks: Set<CopyTask>) => [...tasks].map((task) => task.target).sort();

describe('tablesInRanges', () => {
  // The bench's two shapes at scale 1000 (sizes as the plan measures them).
  const spread = [
    table('commandes', 167),
    table('facturation', 53),
    table('clients', 43),
    table('ligne_devis', 29),
    table('rest', 68),
  ];
  const oneLarge = [
    table('commandes', 167),
    table('facturation', 53),
    table('clients', 43),
    table('rest', 16),
  ];
  const automatic = { largerThan: 64 * MB, onlyWhenDominant: true };

  it('by default splits only a table larger than everything else shared among the other workers', () => {
    expect(names(tablesInRanges(oneLarge, 2, automatic))).toEqual(['commandes']);
    // 167 MB against 193 MB for the other worker: whole tables keep both busy, no range needed.
    expect(names(tablesInRanges(spread, 2, automatic))).toEqual([]);
    // With four workers the other three share 193 MB: commandes would hold the copy, so it is split.
    expect(names(tablesInRanges(spread, 4, automatic))).toEqual(['commandes']);
  });

  it('by default never splits a table under the threshold, however dominant', () => {
    expect(names(tablesInRanges([table('alone', 60), table('tiny', 1)], 2, automatic))).toEqual([]);
  });

  it('set explicitly, the threshold alone decides', () => {
    const explicit = { largerThan: 40 * MB, onlyWhenDominant: false };
    expect(names(tablesInRanges(spread, 2, explicit))).toEqual([
      'clients',
      'commandes',
      'facturation',
      'rest',
    ]);
  });

  it('one worker, or no policy, never splits', () => {
    expect(tablesInRanges(oneLarge, 1, automatic).size).toBe(0);
    expect(tablesInRanges(oneLarge, 4, undefined).size).toBe(0);
  });
});
