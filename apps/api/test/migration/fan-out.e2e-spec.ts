import { INestApplicationContext, Module } from '@nestjs/common';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { MigrationJournalModule } from '../../src/modules/database/journal/migration-journal.module';
import { MigrationJournalService } from '../../src/modules/database/journal/migration-journal.service';
import { SchemaFanOutReport } from '../../src/scripts/migration/fan-out/schema-fan-out';
import { parseJson, runCli, runNpmScript, spawnCli } from '../../../../test/harness/cli';
import { createTestContext } from '../../../../test/harness/nest-context';
import { WatchedProcess } from '../../../../test/harness/process-watch';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule, MigrationJournalModule] })
class TestModule {}

const EXTRA_SOCIETES = 20;
const MAX_DATASOURCES = 4;
const MIGRATION = `
class AddClientRating1767225600000 {
  constructor() { this.name = 'AddClientRating1767225600000'; }
  async up(queryRunner) { await queryRunner.query('ALTER TABLE clients ADD COLUMN rating integer'); }
  async down(queryRunner) { await queryRunner.query('ALTER TABLE clients DROP COLUMN rating'); }
}
module.exports = { AddClientRating1767225600000 };
`;

type FanOutDocument = { mode: string; migrations: SchemaFanOutReport; exitCode: number };

describe('db:migrate after the split (fan-out over tenants)', () => {
  const environment = TestEnvironment.create('fanout');
  const extraDir = join(environment.root, 'migrations');
  const codes = Array.from({ length: EXTRA_SOCIETES }, (_, index) => `FAN${String(index).padStart(2, '0')}`);
  const failing = codes[7];
  let context: INestApplicationContext;

  beforeAll(async () => {
    await environment.createMonolith();
    expect((await runCli(['migrate'], environment.env())).code).toBe(0);
    // Twenty more sociétés, provisioned the way the tool does it: database, journal record, tenant migrations, registry row.
    context = await createTestContext(TestModule, environment);
    const admin = context.get(DatabaseAdminService);
    const migrations = context.get(SchemaMigrationService);
    for (const code of codes) {
      const database = `${environment.prefix}_${code.toLowerCase()}`;
      await admin.create({ database });
      await context.get(MigrationJournalService).withJournal((journal) =>
        journal.recordDatabase({
          name: database,
          kind: 'tenant',
          societeCode: code,
          host: null,
          port: null,
          createdByRun: null,
        }),
      );
      await migrations.run({ database }, 'tenant');
      await environment.query(
        environment.names.auth,
        'INSERT INTO societes (code, nom, database_name) VALUES ($1, $2, $3)',
        [code, `Société ${code}`, database],
      );
    }
    mkdirSync(join(extraDir, 'tenant'), { recursive: true });
    writeFileSync(join(extraDir, 'tenant', '002-add-client-rating.js'), MIGRATION);
    // This tenant already has the column: the migration fails there, and only there.
    await environment.query(
      `${environment.prefix}_${failing.toLowerCase()}`,
      'ALTER TABLE clients ADD COLUMN rating integer',
    );
  }, 180000);

  afterAll(async () => {
    await context?.close();
    await environment.cleanup();
  });

  const applied = async (code: string): Promise<boolean> => {
    const database =
      code === 'TOPSTEEL' ? environment.names.defaultTenant : `${environment.prefix}_${code.toLowerCase()}`;
    const rows = await environment.query(
      database,
      "SELECT 1 FROM migrations WHERE name = 'AddClientRating1767225600000'",
    );
    return rows.length === 1;
  };

  it('exits 0 with nothing to do over 21 tenants', async () => {
    const result = await runNpmScript(
      'db:migrate',
      ['--json'],
      environment.env({ TENANT_MAX_DATASOURCES: String(MAX_DATASOURCES) }),
    );
    expect(result.code).toBe(0);
    expect(parseJson<FanOutDocument>(result).migrations).toMatchObject({
      nothingToDo: true,
      upToDate: 2 + 1 + EXTRA_SOCIETES,
    });
  });

  it('applies a new tenant migration to all 21 tenants, reports the one that fails, and exits 1', async () => {
    const env = environment.env({
      MIGRATIONS_EXTRA_DIR: extraDir,
      TENANT_MAX_DATASOURCES: String(MAX_DATASOURCES),
    });
    // One connection, one query at a time: a sampler that opened a connection per tick piled up
    // connections on a slow machine until the CLI under test could not connect.
    const sampler = await sampleTenantConnections(environment);
    const run = new WatchedProcess(spawnCli(['migrate', '--json', '--jobs', '8'], env));
    const result = await run.done;
    const peak = await sampler.stop();
    expect(result.code).toBe(1);
    const report = parseJson<FanOutDocument>(result).migrations;
    expect(report).toMatchObject({ migrated: EXTRA_SOCIETES, failed: 1, upToDate: 2 });
    expect(report.databases.find((database) => database.status === 'failed')).toMatchObject({
      societe: failing,
    });
    expect(result.stdout + result.stderr).toContain(failing);
    for (const code of ['TOPSTEEL', ...codes])
      expect([code, await applied(code)]).toEqual([code, code !== failing]);
    expect(peak).toBeLessThanOrEqual(MAX_DATASOURCES);
  });

  it('applies it to the failed tenant once fixed, leaving the others alone', async () => {
    await environment.query(
      `${environment.prefix}_${failing.toLowerCase()}`,
      'ALTER TABLE clients DROP COLUMN rating',
    );
    const result = await runCli(['migrate', '--json'], environment.env({ MIGRATIONS_EXTRA_DIR: extraDir }));
    expect(result.code).toBe(0);
    expect(parseJson<FanOutDocument>(result).migrations).toMatchObject({
      migrated: 1,
      failed: 0,
      upToDate: 2 + EXTRA_SOCIETES,
    });
    expect(await applied(failing)).toBe(true);
  });

  it('--tenant limits the run to one société', async () => {
    const result = await runCli(
      ['migrate', '--json', '--tenant', codes[0], '--dry-run'],
      environment.env({ MIGRATIONS_EXTRA_DIR: extraDir }),
    );
    expect(result.code).toBe(0);
    expect(
      parseJson<FanOutDocument>(result).migrations.databases.map((database) => database.societe),
    ).toEqual([codes[0]]);
  });

  it('db:verify passes against the journal once the monolith is gone, although a migration added a column', async () => {
    await environment.query(
      'postgres',
      `ALTER DATABASE "${environment.names.monolith}" RENAME TO "${environment.names.monolith}_gone"`,
    );
    const result = await runCli(['verify', '--json'], environment.env());
    expect([result.code, result.code === 0 ? '' : result.stdout]).toEqual([0, '']);
    expect(parseJson<{ comparedWith: string }>(result).comparedWith).toBe('journal');
  });
});

/** Peak of the tool's sessions on this environment's tenant databases, sampled over one connection. */
async function sampleTenantConnections(environment: TestEnvironment): Promise<{ stop(): Promise<number> }> {
  const client = await environment.client('postgres');
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ count: string }>(
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 AND datname <> ALL($2::text[]) AND application_name LIKE 'topsteel%'",
        [
          `${environment.prefix}\\_%`,
          [environment.names.auth, environment.names.shared, environment.names.monolith],
        ],
      );
      peak = Math.max(peak, Number(rows[0].count));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await environment.release(client);
      return peak;
    },
  };
}
