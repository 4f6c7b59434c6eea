import { createdByMove, moveMarkerNote } from './move-source-fence';
import { assertSameSchema, MovedTable } from './move-tables';
import { MoveExceptionCode } from './move.exception';

const table = (name: string, columns: [string, string][]): MovedTable => ({
  name,
  columns: columns.map(([column, type]) => ({ name: column, type })),
  sizeBytes: 0,
  estimatedRows: 0,
});

describe('move ownership marker', () => {
  const moveId = '3f2a1b4c-0000-4000-8000-000000000001';

  it('recognises only the database this move created', () => {
    const comment = `topsteel-migration ${moveMarkerNote('ACME', moveId)} installation=erp_auth`;
    expect(createdByMove(comment, moveId)).toBe(true);
    expect(createdByMove(comment, '3f2a1b4c-0000-4000-8000-000000000002')).toBe(false);
    expect(createdByMove('topsteel-migration tenant ACME run=x installation=erp_auth', moveId)).toBe(false);
    expect(createdByMove(null, moveId)).toBe(false);
  });
});

describe('assertSameSchema', () => {
  const source = [
    table('clients', [
      ['id', 'uuid'],
      ['nom', 'text'],
    ]),
    table('migrations', [['id', 'integer']]),
  ];

  it('accepts the same tables and columns in another column order', () => {
    const target = [
      table('migrations', [['id', 'integer']]),
      table('clients', [
        ['nom', 'text'],
        ['id', 'uuid'],
      ]),
    ];
    expect(() => assertSameSchema(source, target, 'erp_acme')).not.toThrow();
  });

  it.each([
    [
      'a missing table',
      [
        table('clients', [
          ['id', 'uuid'],
          ['nom', 'text'],
        ]),
      ],
    ],
    [
      'another column type',
      [
        table('clients', [
          ['id', 'uuid'],
          ['nom', 'varchar'],
        ]),
        table('migrations', [['id', 'integer']]),
      ],
    ],
    ['an extra table', [...source, table('extra', [['id', 'integer']])]],
  ])('refuses %s', (_label, target) => {
    let code: string | undefined;
    try {
      assertSameSchema(source, target, 'erp_acme');
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe(MoveExceptionCode.SchemaMismatch);
  });
});
