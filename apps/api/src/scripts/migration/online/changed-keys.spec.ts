import { ChangedKeys } from './changed-keys';

describe('ChangedKeys', () => {
  it('remembers each changed key once, composite keys included', () => {
    const keys = new ChangedKeys();
    keys.add('lines', ['order_id', 'line'], { order_id: '7', line: '1', qty: '3' });
    keys.add('lines', ['order_id', 'line'], { order_id: '7', line: '1', qty: '4' });
    keys.add('lines', ['order_id', 'line'], { order_id: '7', line: '2' });
    expect(keys.of('lines')).toEqual({
      kind: 'keys',
      columns: ['order_id', 'line'],
      keys: [
        ['7', '1'],
        ['7', '2'],
      ],
    });
  });

  it('falls back to the whole table past the cap, for a key it was not given, and after a TRUNCATE', () => {
    const keys = new ChangedKeys(2);
    for (const id of ['1', '2', '3']) keys.add('capped', ['id'], { id });
    keys.add('unkeyed', ['id'], { id: undefined });
    keys.add('nullkey', ['id'], { id: null });
    keys.add('truncated', ['id'], { id: '1' });
    keys.whole('truncated');
    keys.add('truncated', ['id'], { id: '2' });
    for (const table of ['capped', 'unkeyed', 'nullkey', 'truncated', 'never-changed'])
      expect([table, keys.of(table)]).toEqual([table, { kind: 'whole' }]);
  });
});
