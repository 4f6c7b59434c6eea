import { INestApplicationContext, Module } from '@nestjs/common';
import { SchemaKind } from '../../src/database/migrations/migration-sets';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { DEFAULT_PLAN } from '../../src/scripts/migration/plan/default-plan';
import { LEGACY_COLUMNS } from '../../src/scripts/migration/plan/legacy-columns';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule] })
class TestModule {}

type ColumnRow = { table: string; name: string; type: string; notnull: boolean; default: string | null };

const COLUMNS_SQL = `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
                            pg_get_expr(d.adbin, d.adrelid) AS default
                     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                     WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY c.relname, a.attnum`;

const FOREIGN_KEYS_SQL = `SELECT conrelid::regclass::text AS table, conname AS name FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2`;

function byTable(rows: ColumnRow[]): Map<string, ColumnRow[]> {
  const result = new Map<string, ColumnRow[]>();
  for (const row of rows) result.set(row.table, [...(result.get(row.table) ?? []), row]);
  return result;
}

describe('001 schema migrations', () => {
  const environment = TestEnvironment.create('schema');
  let context: INestApplicationContext;
  let migrations: SchemaMigrationService;
  const databaseOf = (kind: SchemaKind): string =>
    ({
      auth: environment.names.auth,
      shared: environment.names.shared,
      tenant: environment.names.defaultTenant,
    })[kind];

  beforeAll(async () => {
    await environment.createMonolith();
    context = await createTestContext(TestModule, environment);
    migrations = context.get(SchemaMigrationService);
    const admin = context.get(DatabaseAdminService);
    for (const kind of ['auth', 'shared', 'tenant'] as const)
      await admin.create({ database: databaseOf(kind) });
  });

  afterAll(async () => {
    await context?.close();
    await environment.cleanup();
  });

  it('apply to empty databases, report what ran, then have nothing pending', async () => {
    for (const kind of ['auth', 'shared', 'tenant'] as const) {
      expect(await migrations.pending({ database: databaseOf(kind) }, kind)).toEqual(
        migrations.migrationNames(kind),
      );
      const report = await migrations.run({ database: databaseOf(kind) }, kind);
      expect(report.executed).toEqual(migrations.migrationNames(kind));
      expect(await migrations.pending({ database: databaseOf(kind) }, kind)).toEqual([]);
      expect((await migrations.run({ database: databaseOf(kind) }, kind)).executed).toEqual([]);
    }
  });

  it('keep every legacy column with the same name, type, nullability and default, in order', async () => {
    const legacy = byTable(await environment.query<ColumnRow>(environment.names.monolith, COLUMNS_SQL));
    for (const kind of ['auth', 'shared', 'tenant'] as const) {
      const target = byTable(await environment.query<ColumnRow>(databaseOf(kind), COLUMNS_SQL));
      for (const planned of DEFAULT_PLAN.tables.filter((table) => table.database === kind)) {
        const strip = (rows: ColumnRow[] | undefined) =>
          (rows ?? []).map(({ table: _table, ...column }) => column);
        const targetColumns = strip(target.get(planned.target));
        const added = planned.addedColumns.map((column) => column.name);
        expect(targetColumns.filter((column) => !added.includes(column.name))).toEqual(
          strip(legacy.get(planned.source)),
        );
        for (const column of planned.addedColumns) {
          expect(targetColumns.find((existing) => existing.name === column.name)?.type).toBe(column.type);
        }
      }
    }
  });

  it('LEGACY_COLUMNS, which plan validation uses, equals the schema', async () => {
    const legacy = byTable(await environment.query<ColumnRow>(environment.names.monolith, COLUMNS_SQL));
    for (const planned of DEFAULT_PLAN.tables) {
      expect([planned.source, LEGACY_COLUMNS[planned.source]]).toEqual([
        planned.source,
        (legacy.get(planned.source) ?? []).map((column) => [column.name, column.type, !column.notnull]),
      ]);
    }
    expect(Object.keys(LEGACY_COLUMNS).sort()).toEqual(
      DEFAULT_PLAN.tables.map((table) => table.source).sort(),
    );
  });

  it('keep the foreign keys inside a database and drop exactly the ones the plan lists as cut', async () => {
    const legacyKeys = await environment.query<{ table: string; name: string }>(
      environment.names.monolith,
      FOREIGN_KEYS_SQL,
    );
    const kindOf = new Map(DEFAULT_PLAN.tables.map((table) => [table.source, table.database]));
    const cut = new Set(
      DEFAULT_PLAN.cutReferences.map((reference) => reference.legacyConstraint).filter(Boolean),
    );
    const targetKeys = new Set<string>();
    for (const kind of ['auth', 'shared', 'tenant'] as const) {
      for (const key of await environment.query<{ name: string }>(databaseOf(kind), FOREIGN_KEYS_SQL))
        targetKeys.add(key.name.replace('shared_materials', 'materiaux'));
    }
    for (const key of legacyKeys.filter((candidate) => kindOf.has(candidate.table))) {
      expect([key.name, targetKeys.has(key.name)]).toEqual([key.name, !cut.has(key.name)]);
    }
    expect(cut.size).toBe(10);
  });

  it('give every tenant table societe_id uuid NOT NULL with an index', async () => {
    const indexed = await environment.query<{ table: string }>(
      environment.names.defaultTenant,
      `SELECT t.relname AS table FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
       WHERE a.attname = 'societe_id' AND a.attnotnull`,
    );
    const tenantTables = DEFAULT_PLAN.tables
      .filter((table) => table.database === 'tenant')
      .map((table) => table.target);
    expect(indexed.map((row) => row.table).sort()).toEqual([...tenantTables].sort());
  });

  it('revert cleanly, leaving only the migrations table', async () => {
    for (const kind of ['tenant', 'shared', 'auth'] as const) {
      expect(await migrations.revertAll({ database: databaseOf(kind) }, kind)).toEqual(
        migrations.migrationNames(kind).reverse(),
      );
      const tables = await environment.query<{ tablename: string }>(
        databaseOf(kind),
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(tables.map((row) => row.tablename)).toEqual(['migrations']);
      const types = await environment.query(
        databaseOf(kind),
        "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'",
      );
      expect(types).toEqual([]);
    }
  });
});
