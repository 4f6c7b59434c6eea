import { parsePage, toPageResult } from './page';

describe('pagination', () => {
  it('defaults and bounds limit and offset', () => {
    expect(parsePage({})).toEqual({ limit: 50, offset: 0 });
    expect(parsePage({ limit: '500', offset: '20' })).toEqual({ limit: 500, offset: 20 });
    expect(parsePage({ limit: '501' })).toMatchObject({ parameter: 'limit' });
    expect(parsePage({ limit: '0' })).toMatchObject({ parameter: 'limit' });
    expect(parsePage({ offset: '-1' })).toMatchObject({ parameter: 'offset' });
    expect(parsePage({ limit: ['1', '2'] })).toMatchObject({ parameter: 'limit' });
    expect(parsePage({ limit: '1e3' })).toMatchObject({ parameter: 'limit' });
  });

  it('knows whether another page follows from one extra row', () => {
    expect(toPageResult([1, 2, 3], { limit: 2, offset: 4 })).toEqual({
      items: [1, 2],
      limit: 2,
      offset: 4,
      nextOffset: 6,
    });
    expect(toPageResult([1, 2], { limit: 2, offset: 0 }).nextOffset).toBeNull();
  });
});
