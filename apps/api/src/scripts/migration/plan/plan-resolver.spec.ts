import { DEFAULT_PLAN } from './default-plan';
import { LEGACY_COLUMNS } from './legacy-columns';
import { contractTargetColumns, planDrift, ResolvedPlan } from './plan-resolver';

const task = (source: string, columns: string[]): ResolvedPlan['tasks'][number] => ({
  source,
  target: source,
  database: 'tenant',
  columns: columns.map((name) => ({ name, sourceType: 'text', targetType: 'text' })),
  addedColumns: [],
  estimatedRows: 0,
  sizeBytes: 0,
  readable: true,
});

const plan: ResolvedPlan = {
  tasks: [task('clients', ['id', 'nom']), task('commandes', ['id', 'client_id'])],
  excluded: [
    { source: 'migrations', reason: 'ORM bookkeeping', by: 'plan' },
    { source: 'archive.old_orders', reason: 'excluded by the operator with --exclude-table', by: 'operator' },
  ],
  cutReferences: [],
};

describe('plan resolver: contractTargetColumns', () => {
  it('gives every legacy column of a planned table, then the added ones, societe_id NOT NULL', () => {
    const clients = DEFAULT_PLAN.tables.find((table) => table.source === 'clients');
    expect(clients).toBeDefined();
    const columns = contractTargetColumns('clients', clients!.addedColumns);
    const legacy = LEGACY_COLUMNS.clients.map(([name, type, nullable]) => ({ name, type, nullable }));
    expect(
      columns.slice(0, legacy.length).map(({ name, type, nullable }) => ({ name, type, nullable })),
    ).toEqual(legacy);
    expect(columns.slice(legacy.length)).toEqual([
      { name: 'societe_id', type: 'uuid', nullable: false, hasDefault: false },
    ]);
  });

  it('gives only the added columns for a table the contract does not know', () => {
    const added = [
      { name: 'note', type: 'text', fill: { kind: 'expression', sql: "''" }, rule: 'empty' } as const,
    ];
    expect(contractTargetColumns('not_a_legacy_table', [...added])).toEqual([
      { name: 'note', type: 'text', nullable: true, hasDefault: false },
    ]);
  });
});

describe('plan resolver: planDrift', () => {
  const live = [
    { schema: 'public', name: 'clients', columns: ['id', 'nom'] },
    { schema: 'public', name: 'commandes', columns: ['id', 'client_id'] },
    { schema: 'public', name: 'migrations', columns: ['id'] },
    { schema: 'archive', name: 'old_orders', columns: ['id'] },
  ];

  it('finds nothing when the catalogue is the one the plan was resolved against', () => {
    expect(planDrift(plan, live)).toEqual([]);
  });

  it('names a table that appeared and is neither planned nor excluded', () => {
    expect(planDrift(plan, [...live, { schema: 'public', name: 'factures_2027', columns: ['id'] }])).toEqual([
      'table factures_2027 appeared after the pre-flight and is not in the plan',
    ]);
  });

  it('names a table in another schema by its qualified name', () => {
    expect(planDrift(plan, [...live, { schema: 'archive', name: 'clients', columns: ['id'] }])).toEqual([
      'table archive.clients appeared after the pre-flight and is not in the plan',
    ]);
  });

  it('names a planned table whose columns changed, including their order', () => {
    const reordered = live.map((table) =>
      table.name === 'commandes' ? { ...table, columns: ['client_id', 'id'] } : table,
    );
    expect(planDrift(plan, reordered)).toEqual([
      'the columns of commandes changed after the pre-flight (now client_id, id)',
    ]);
  });

  it('names a planned table that disappeared', () => {
    expect(
      planDrift(
        plan,
        live.filter((table) => table.name !== 'clients'),
      ),
    ).toEqual(['table clients disappeared after the pre-flight']);
  });
});
