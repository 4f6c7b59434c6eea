import { blockRanges, rangeCondition } from './range-load';

describe('blockRanges', () => {
  it('covers every block exactly once, the last range open-ended', () => {
    for (const pages of [0, 1, 2, 5, 10, 97, 12800]) {
      for (const workers of [1, 2, 3, 8]) {
        const ranges = blockRanges(pages, workers);
        expect(ranges[0].from).toBeNull();
        expect(ranges[ranges.length - 1].to).toBeNull();
        ranges.slice(1).forEach((range, index) => expect(range.from).toBe(ranges[index].to));
        const bounds = ranges.slice(1).map((range) => range.from as number);
        expect(bounds).toEqual([...bounds].sort((left, right) => left - right));
        expect(new Set(bounds).size).toBe(bounds.length);
        bounds.forEach((bound) => expect(bound > 0 && bound < pages).toBe(true));
      }
    }
  });

  it('gives each worker two ranges of about the same size when the table has the blocks', () => {
    expect(blockRanges(10, 2)).toEqual([
      { from: null, to: 3 },
      { from: 3, to: 6 },
      { from: 6, to: 9 },
      { from: 9, to: null },
    ]);
  });
});

describe('rangeCondition', () => {
  it('bounds the TID range scan by whole blocks', () => {
    expect(rangeCondition({ from: null, to: 3 })).toBe(`t.ctid < '(3,0)'::tid`);
    expect(rangeCondition({ from: 3, to: 6 })).toBe(`t.ctid >= '(3,0)'::tid AND t.ctid < '(6,0)'::tid`);
    expect(rangeCondition({ from: 9, to: null })).toBe(`t.ctid >= '(9,0)'::tid`);
    expect(rangeCondition({ from: null, to: null })).toBeUndefined();
  });
});
