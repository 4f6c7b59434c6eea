import { CleanException } from './clean.exception';
import { buildCascadePlan, childrenFirst } from './cascade-planner';
import { cascadeSql } from './cascade-sql';
import { ForeignKeyGraph, GraphForeignKey, ReferenceAction } from './foreign-key-graph';

const table = (name: string, primaryKey: string[] | null = ['id'], columns = ['id']) => ({
  schema: 'public',
  name,
  key: `public.${name}`,
  columns,
  storedColumns: columns.map((column) => ({ name: column, type: 'uuid' })),
  primaryKey,
});

const fk = (
  name: string,
  child: string,
  childColumns: string[],
  parent: string,
  parentColumns: string[],
  onDelete: ReferenceAction,
): GraphForeignKey => ({
  name,
  child: `public.${child}`,
  parent: `public.${parent}`,
  childColumns,
  parentColumns,
  onDelete,
  setColumns: childColumns,
});

/** A miniature of the legacy schema: users and what hangs off them. */
function graph(extra: GraphForeignKey[] = []): ForeignKeyGraph {
  const tables = [
    table('users', ['id'], ['id', 'email']),
    table('user_sessions', ['id'], ['id', 'userId', 'forcedLogoutBy']),
    table('preferences', ['id'], ['id', 'user_id', 'table_id']),
    table('preference_order', ['id'], ['id', 'user_id', 'table_id']),
    table('production', ['id'], ['id', 'operateur_id']),
    table('menu_items', ['id'], ['id', 'parentId']),
    table('audit', null, ['user_id']),
  ];
  return {
    tables: new Map(tables.map((entry) => [entry.key, entry])),
    foreignKeys: [
      fk('sessions_user', 'user_sessions', ['userId'], 'users', ['id'], 'cascade'),
      fk('sessions_forced', 'user_sessions', ['forcedLogoutBy'], 'users', ['id'], 'set-null'),
      fk('preferences_user', 'preferences', ['user_id'], 'users', ['id'], 'cascade'),
      fk('order_user', 'preference_order', ['user_id'], 'users', ['id'], 'cascade'),
      fk(
        'order_preferences',
        'preference_order',
        ['user_id', 'table_id'],
        'preferences',
        ['user_id', 'table_id'],
        'cascade',
      ),
      fk('production_operateur', 'production', ['operateur_id'], 'users', ['id'], 'set-null'),
      fk('menu_parent', 'menu_items', ['parentId'], 'menu_items', ['id'], 'cascade'),
      ...extra,
    ],
  };
}

const selection = (tableName: string, predicate: string, values: unknown[] = []) => ({
  rule: 'rule',
  schema: 'public',
  table: tableName,
  predicate,
  values,
});

describe('buildCascadePlan', () => {
  it('follows ON DELETE CASCADE recursively, parents first, multi-column keys included', () => {
    const plan = buildCascadePlan(graph(), [selection('users', 'email = ANY($1)', [['x.test']])]);
    expect(plan.deleted.map((entry) => entry.table.name)).toEqual([
      'users',
      'preferences',
      'user_sessions',
      'preference_order',
    ]);
    const order = plan.deleted.find((entry) => entry.table.name === 'preference_order');
    expect(order?.cascadeFrom.map((foreignKey) => foreignKey.name)).toEqual([
      'order_user',
      'order_preferences',
    ]);
    expect(plan.parameters).toEqual([['x.test']]);
  });

  it('reports ON DELETE SET NULL targets as modified tables, with the columns emptied', () => {
    const plan = buildCascadePlan(graph(), [selection('users', 'true')]);
    expect(plan.modified.map((entry) => [entry.table.name, entry.setColumns])).toEqual([
      ['production', ['operateur_id']],
      ['user_sessions', ['forcedLogoutBy']],
    ]);
  });

  it('reports RESTRICT / NO ACTION references as possible blockers', () => {
    const plan = buildCascadePlan(
      graph([fk('audit_user', 'audit', ['user_id'], 'users', ['id'], 'no-action')]),
      [selection('users', 'true')],
    );
    expect(plan.blocking.map((entry) => entry.foreignKey.name)).toEqual(['audit_user']);
  });

  it("shifts each rule's placeholders after the previous rules' values", () => {
    const plan = buildCascadePlan(graph(), [
      selection('users', 'email = $1', ['a']),
      selection('user_sessions', '"userId" = $1 OR "userId" = $2', ['b', 'c']),
    ]);
    expect(plan.parameters).toEqual(['a', 'b', 'c']);
    expect(plan.deleted.find((entry) => entry.table.name === 'user_sessions')?.rootPredicate).toBe(
      '("userId" = $2 OR "userId" = $3)',
    );
  });

  it('lists tables that do not exist instead of failing', () => {
    const plan = buildCascadePlan(graph(), [selection('test_orders', 'true')]);
    expect(plan.missingTables).toEqual(['public.test_orders']);
    expect(plan.deleted).toEqual([]);
  });

  it('refuses a cascade cycle through several tables', () => {
    const cyclic = graph([
      fk('users_menu', 'users', ['email'], 'menu_items', ['id'], 'cascade'),
      fk('menu_users', 'menu_items', ['parentId'], 'users', ['id'], 'cascade'),
    ]);
    expect(() => buildCascadePlan(cyclic, [selection('users', 'true')])).toThrow(CleanException);
  });

  it('deletes children before parents', () => {
    const model = graph();
    const plan = buildCascadePlan(model, [selection('users', 'true'), selection('user_sessions', 'true')]);
    const order = childrenFirst(plan, model).map((entry) => entry.table.name);
    expect(order.indexOf('user_sessions')).toBeLessThan(order.indexOf('users'));
    expect(order.indexOf('preference_order')).toBeLessThan(order.indexOf('preferences'));
  });
});

describe('cascadeSql', () => {
  it('builds one statement: a CTE per table, recursive for self-referencing trees, quoted identifiers', () => {
    const plan = buildCascadePlan(graph(), [
      selection('users', 'true'),
      selection('menu_items', '"parentId" IS NULL'),
    ]);
    const sql = cascadeSql(plan);
    expect(sql.startsWith('WITH RECURSIVE ')).toBe(true);
    expect(sql).toContain('(s."user_id", s."table_id") IN (SELECT p."user_id", p."table_id"');
    expect(sql).toMatch(
      /"clean_d\d+" AS \(SELECT \* FROM .*"public"\."menu_items".* UNION SELECT s\.\* FROM/s,
    );
    expect(sql).toContain(`SELECT 'm'::text AS kind`);
    expect(sql).not.toContain('undefined');
  });
});
