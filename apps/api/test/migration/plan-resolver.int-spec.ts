import { Client } from 'pg';
import { Finding } from '../../src/scripts/migration/plan/finding';
import {
  PlanValidation,
  resolvePlan,
  TargetColumn,
  TargetSchemas,
} from '../../src/scripts/migration/plan/plan-resolver';
import { MigrationPlan } from '../../src/scripts/migration/plan/plan.types';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * resolvePlan held against a small hand-made source database and a hand-written plan and target
 * schema, so that each rule of DESIGN.md section 4 shows on its own table: schema drift is a blocker
 * that names the table or column, and what the operator leaves behind is recorded.
 */
const SOURCE_SQL = `
  CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, note text);
  CREATE TABLE prices (id integer PRIMARY KEY, amount text);
  CREATE TABLE codes (id integer PRIMARY KEY);
  CREATE TABLE clean_copy (id integer PRIMARY KEY, label character varying(20));
  CREATE TABLE drifted (id integer);
  CREATE TABLE left_behind (id integer);
  CREATE TABLE orm_bookkeeping (id integer);
  CREATE VIEW item_names AS SELECT name FROM items;
  INSERT INTO items VALUES (1, 'one', NULL), (2, 'two', 'kept');
`;

const column = (name: string, type: string, nullable = true): TargetColumn => ({
  name,
  type,
  nullable,
  hasDefault: false,
});

const TARGETS: TargetSchemas = {
  tenant: {
    tables: new Map([
      ['items', [column('id', 'integer', false), column('name', 'text', false)]],
      ['prices', [column('id', 'integer', false), column('amount', 'integer')]],
      ['codes', [column('id', 'integer', false), column('code', 'text', false)]],
      ['clean_copy', [column('id', 'integer', false), column('label', 'text')]],
      ['never_created', [column('id', 'integer', false)]],
    ]),
    enums: new Map(),
  },
};

const planned = (source: string) => ({
  source,
  target: source,
  database: 'tenant' as const,
  addedColumns: [],
});

const PLAN: MigrationPlan = {
  tables: ['items', 'prices', 'codes', 'clean_copy', 'never_created'].map(planned),
  excluded: [{ source: 'orm_bookkeeping', reason: 'the ORM keeps its own' }],
  cutReferences: [],
  newTables: [],
};

const codes = (findings: Finding[], table: string): string[] =>
  findings
    .filter((finding) => finding.table === table)
    .map((finding) => `${finding.severity} ${finding.code}`);

describe('plan resolver on a live catalogue', () => {
  const environment = TestEnvironment.create('planres');
  let client: Client;
  let resolved: PlanValidation;

  beforeAll(async () => {
    await environment.query('postgres', `CREATE DATABASE "${environment.names.monolith}"`);
    client = await environment.client(environment.names.monolith);
    await client.query(SOURCE_SQL);
    resolved = await resolvePlan(client, PLAN, {
      excludeTables: ['public.left_behind', 'ghost'],
      targets: TARGETS,
    });
  });
  afterAll(() => environment.cleanup());

  it('makes a table the plan does not know a blocker that names it and the way out', () => {
    const [drift] = resolved.findings.filter((finding) => finding.table === 'drifted');
    expect(drift).toMatchObject({ code: 'UNKNOWN_TABLE', severity: 'blocker' });
    expect(drift.hint).toContain('--exclude-table drifted');
  });

  it('makes a source column with no place on the target a blocker, and leaves it out of the copy', () => {
    expect(codes(resolved.findings, 'items')).toEqual(['blocker UNKNOWN_COLUMN']);
    expect(resolved.findings.find((finding) => finding.table === 'items')?.column).toBe('note');
    const items = resolved.plan.tasks.find((task) => task.source === 'items');
    expect(items?.columns.map((copied) => copied.name)).toEqual(['id', 'name']);
  });

  it('makes an incompatible type a blocker', () => {
    expect(codes(resolved.findings, 'prices')).toEqual(['blocker INCOMPATIBLE_TYPE']);
  });

  it('makes a NOT NULL target column that nothing feeds a blocker', () => {
    expect(codes(resolved.findings, 'codes')).toEqual(['blocker NOT_NULL_NOT_FED']);
  });

  it('copies a table that fits with its exact shared column list and no finding', () => {
    expect(codes(resolved.findings, 'clean_copy')).toEqual([]);
    const task = resolved.plan.tasks.find((candidate) => candidate.source === 'clean_copy');
    expect(task).toMatchObject({ target: 'clean_copy', database: 'tenant', readable: true });
    expect(task?.columns).toEqual([
      { name: 'id', sourceType: 'integer', targetType: 'integer' },
      { name: 'label', sourceType: 'character varying(20)', targetType: 'text' },
    ]);
  });

  it('records --exclude-table as the operator choice, and the plan exclusions as the plan', () => {
    expect(resolved.plan.excluded).toEqual(
      expect.arrayContaining([
        { source: 'left_behind', reason: 'excluded by the operator with --exclude-table', by: 'operator' },
        { source: 'orm_bookkeeping', reason: 'the ORM keeps its own', by: 'plan' },
      ]),
    );
    expect(codes(resolved.findings, 'left_behind')).toEqual([]);
    expect(codes(resolved.findings, 'orm_bookkeeping')).toEqual([]);
  });

  it('warns about an --exclude-table that names no table', () => {
    expect(codes(resolved.findings, 'ghost')).toEqual(['warning EXCLUDED_TABLE_ABSENT']);
  });

  it('warns about a planned table absent from the source and makes no task of it', () => {
    expect(codes(resolved.findings, 'never_created')).toEqual(['warning PLANNED_TABLE_ABSENT']);
    expect(resolved.plan.tasks.map((task) => task.source)).toEqual([
      'items',
      'prices',
      'codes',
      'clean_copy',
    ]);
  });

  it('warns that a view is not copied, without blocking', () => {
    expect(codes(resolved.findings, 'item_names')).toEqual(['warning NON_TABLE_RELATION']);
  });

  it('lists the public tables present in the source', () => {
    expect([...resolved.present].sort()).toEqual(
      ['clean_copy', 'codes', 'drifted', 'items', 'left_behind', 'orm_bookkeeping', 'prices'].sort(),
    );
  });

  it('refuses a planned table that a kept table references when --exclude-table leaves it behind', async () => {
    await client.query(
      `CREATE TABLE parents (id integer PRIMARY KEY);
       CREATE TABLE children (id integer PRIMARY KEY, parent_id integer REFERENCES parents(id));
       INSERT INTO parents VALUES (1); INSERT INTO children VALUES (10, 1), (11, NULL);`,
    );
    const family: MigrationPlan = { ...PLAN, tables: ['parents', 'children'].map(planned), excluded: [] };
    const targets: TargetSchemas = {
      tenant: {
        tables: new Map([
          ['parents', [column('id', 'integer', false)]],
          ['children', [column('id', 'integer', false), column('parent_id', 'integer')]],
        ]),
        enums: new Map(),
      },
    };
    const result = await resolvePlan(client, family, { excludeTables: ['parents'], targets });
    const [finding] = result.findings.filter((candidate) => candidate.code === 'EXCLUDED_PARENT');
    expect(finding).toMatchObject({ severity: 'blocker', table: 'children', column: 'parent_id', count: 1 });
  });
});
