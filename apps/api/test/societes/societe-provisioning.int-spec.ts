import { INestApplicationContext, Module } from '@nestjs/common';
import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/common/embedded/embedded-postgres.server';
import { ExitCode } from '../../src/common/exceptions/exit-code';
import { TopsteelException } from '../../src/common/exceptions/topsteel.exception';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { HeldLock, MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { SocieteInput } from '../../src/modules/societes/societe-input';
import { SocieteMembershipService } from '../../src/modules/societes/societe-membership.service';
import {
  EnsureSocieteResult,
  SocieteProvisioningService,
} from '../../src/modules/societes/societe-provisioning.service';
import { SocietesModule } from '../../src/modules/societes/societes.module';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule, SocietesModule] })
class TestModule {}

const RUN_ID = '11111111-1111-4111-8111-111111111111';

/** A tenant migration that half-runs then fails, shipped through MIGRATIONS_EXTRA_DIR like a hotfix would be. */
const FAILING_MIGRATION = `
class FailingTenantMigration1999999999999 {
  constructor() { this.name = 'FailingTenantMigration1999999999999'; }
  async up(queryRunner) { await queryRunner.query('CREATE TABLE half_done (id int)'); throw new Error('simulated migration failure'); }
  async down() {}
}
exports.FailingTenantMigration1999999999999 = FailingTenantMigration1999999999999;
`;

describe('SocieteProvisioningService', () => {
  const environment = TestEnvironment.create('provision');
  const extraMigrations = mkdtempSync(join(tmpdir(), 'topsteel-failing-migration-'));
  let context: INestApplicationContext;
  let failing: INestApplicationContext;
  let provisioning: SocieteProvisioningService;
  let members: SocieteMembershipService;

  const ensureWith = (target: INestApplicationContext, input: SocieteInput): Promise<EnsureSocieteResult> =>
    target
      .get(MigrationLockService)
      .withMigrationLock('test', { timeoutMs: 5000 }, (lock) =>
        target.get(SocieteProvisioningService).ensureSociete(input, { runId: RUN_ID, lock }),
      );
  const ensure = (input: SocieteInput) => ensureWith(context, input);
  const tenantDatabase = (code: string) => `${environment.prefix}_${code}`;
  const journalRows = () =>
    environment.query<{ name: string; societe_code: string; created_by_run: string }>(
      environment.names.auth,
      'SELECT name, societe_code, created_by_run FROM migration_journal.databases ORDER BY name',
    );
  const insertUser = async (email: string, options: { deleted?: boolean } = {}): Promise<string> => {
    const [row] = await environment.query<{ id: string }>(
      environment.names.auth,
      `INSERT INTO users (nom, prenom, email, password, role, deleted_at) VALUES ('Nom', 'Prénom', $1, $2, 'OPERATEUR', $3) RETURNING id`,
      [email, ADMIN_ACCOUNT.hash, options.deleted ? new Date() : null],
    );
    return row.id;
  };

  beforeAll(async () => {
    mkdirSync(join(extraMigrations, 'tenant'));
    writeFileSync(join(extraMigrations, 'tenant', '999-failing.js'), FAILING_MIGRATION);
    context = await createTestContext(TestModule, environment);
    failing = await createTestContext(TestModule, environment, { MIGRATIONS_EXTRA_DIR: extraMigrations });
    const auth = { database: environment.names.auth };
    await context.get(DatabaseAdminService).create(auth);
    await context.get(SchemaMigrationService).run(auth, 'auth');
    provisioning = context.get(SocieteProvisioningService);
    members = context.get(SocieteMembershipService);
  });

  afterAll(async () => {
    await context?.close();
    await failing?.close();
    await environment.cleanup();
    rmSync(extraMigrations, { recursive: true, force: true });
  });

  it('creates the database closed to PUBLIC, records it, migrates it, and registers the société with a default site', async () => {
    const result = await ensure({ code: 'acme', nom: 'Acme Industries' });
    expect(result).toMatchObject({
      created: true,
      databaseCreated: true,
      defaultSiteCreated: true,
      societe: { code: 'ACME', nom: 'Acme Industries', database: tenantDatabase('acme'), status: 'active' },
    });
    expect(result.migrationsApplied).toEqual(['CreateTenantTables1751328000003']);
    const [database] = await environment.query<{ comment: string; public_connect: boolean }>(
      'postgres',
      `SELECT shobj_description(oid, 'pg_database') AS comment,
              EXISTS (SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') AS public_connect
       FROM pg_database WHERE datname = $1`,
      [tenantDatabase('acme')],
    );
    expect(database.comment).toMatch(/^topsteel-migration tenant ACME/);
    expect(database.public_connect).toBe(false);
    const tables = await environment.query(
      tenantDatabase('acme'),
      "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('clients', 'commandes')",
    );
    expect(tables).toHaveLength(2);
    expect(await journalRows()).toEqual([
      { name: tenantDatabase('acme'), societe_code: 'ACME', created_by_run: RUN_ID },
    ]);
    const sites = await environment.query(
      environment.names.auth,
      'SELECT code, is_default FROM sites WHERE societe_id = $1',
      [result.societe.societeId],
    );
    expect(sites).toEqual([{ code: 'PRINCIPAL', is_default: true }]);
  });

  it('changes nothing when run again, whatever the case of the code', async () => {
    const snapshot = async () => ({
      societes: await environment.query(environment.names.auth, 'SELECT * FROM societes ORDER BY code'),
      sites: await environment.query(environment.names.auth, 'SELECT * FROM sites ORDER BY code'),
      journal: await journalRows(),
    });
    const before = await snapshot();
    const again = await ensure({ code: 'ACME', nom: 'Another name' });
    expect(again).toMatchObject({
      created: false,
      databaseCreated: false,
      migrationsApplied: [],
      defaultSiteCreated: false,
      societe: { code: 'ACME', nom: 'Acme Industries' },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('accepts an explicit id (as the split does for the default société) and refuses a conflicting one', async () => {
    const id = '7d0c5a38-44c8-4d0b-a0b2-7f1ef6a2b001';
    const result = await ensure({ code: 'Topsteel', nom: 'TopSteel', id });
    expect(result.societe).toMatchObject({ societeId: id, code: 'TOPSTEEL' });
    expect((await ensure({ code: 'TOPSTEEL', nom: 'TopSteel', id })).created).toBe(false);
    await expect(
      ensure({ code: 'TOPSTEEL', nom: 'TopSteel', id: '7d0c5a38-44c8-4d0b-a0b2-7f1ef6a2b002' }),
    ).rejects.toMatchObject({ code: 'SOCIETE_CONFLICT' });
    await expect(ensure({ code: 'other', nom: 'Other', id })).rejects.toMatchObject({
      code: 'SOCIETE_CONFLICT',
    });
  });

  it.each([
    ['a dash', 'bad-code'],
    ['SQL', 'x"; DROP DATABASE postgres; --'],
    ['an empty code', ''],
    ['a leading digit', '1abc'],
    ['a name too long for the prefix', 'a'.repeat(50)],
  ])('refuses %s with a usage error before any SQL', async (_label, code) => {
    // An unreachable server: if anything connected first, the error would be UNREACHABLE instead.
    const offline = await createTestContext(TestModule, environment, {
      DB_HOST: '127.0.0.1',
      DB_PORT: String(await freePort()),
      DB_CONNECTION_TIMEOUT: '500',
    });
    try {
      const unlocked: HeldLock = { assertHeld: () => undefined };
      const error = await offline
        .get(SocieteProvisioningService)
        .ensureSociete({ code, nom: 'X' }, { runId: RUN_ID, lock: unlocked })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TopsteelException);
      expect(error).toMatchObject({ code: 'INVALID_SOCIETE_CODE', exitCode: ExitCode.Usage });
    } finally {
      await offline.close();
    }
  });

  it('drops the database it created, and forgets it, when a later step fails', async () => {
    await expect(ensureWith(failing, { code: 'broken', nom: 'Broken' })).rejects.toThrow(
      /simulated migration failure/,
    );
    expect(await environment.databaseExists(tenantDatabase('broken'))).toBe(false);
    expect((await journalRows()).map((row) => row.name)).not.toContain(tenantDatabase('broken'));
    expect(
      await environment.query(environment.names.auth, "SELECT 1 FROM societes WHERE code = 'BROKEN'"),
    ).toHaveLength(0);
  });

  it('never drops or adopts a database it did not create that holds anything', async () => {
    await environment.query('postgres', `CREATE DATABASE "${tenantDatabase('foreign')}"`);
    await environment.query(tenantDatabase('foreign'), 'CREATE TABLE someone_elses (id int)');
    await expect(ensure({ code: 'foreign', nom: 'Foreign' })).rejects.toMatchObject({
      code: 'NOT_OWNED_BY_TOOL',
    });
    expect(await environment.databaseExists(tenantDatabase('foreign'))).toBe(true);
    await expect(ensureWith(failing, { code: 'acme', nom: 'Acme' })).rejects.toThrow(/simulated/);
    expect(await environment.databaseExists(tenantDatabase('acme'))).toBe(true);
  });

  it('refuses to re-create a société whose database still holds rows: named, never adopted, rows kept', async () => {
    const first = await ensure({ code: 'keep', nom: 'Keep' });
    await environment.query(
      tenantDatabase('keep'),
      "INSERT INTO clients (nom, societe_id) VALUES ('Client gardé', $1)",
      [first.societe.societeId],
    );
    // The société's record goes (a hard delete by hand), its database with its rows stays.
    await environment.query(environment.names.auth, 'DELETE FROM sites WHERE societe_id = $1', [
      first.societe.societeId,
    ]);
    await environment.query(environment.names.auth, "DELETE FROM societes WHERE code = 'KEEP'");
    const error = await ensure({ code: 'keep', nom: 'Keep again' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'DATABASE_HOLDS_DATA' });
    expect((error as Error).message).toContain(tenantDatabase('keep'));
    expect((error as Error).message).toContain('clients');
    expect(await environment.query(tenantDatabase('keep'), 'SELECT nom FROM clients')).toEqual([
      { nom: 'Client gardé' },
    ]);
    expect(
      await environment.query(environment.names.auth, "SELECT 1 FROM societes WHERE code = 'KEEP'"),
    ).toHaveLength(0);
  });

  it('resumes a database that a crashed provisioning left migrated but without rows', async () => {
    const location = { database: tenantDatabase('crashed') };
    await context.get(DatabaseAdminService).create(location, { note: 'tenant CRASHED run=earlier' });
    await context.get(SchemaMigrationService).run(location, 'tenant');
    expect(await ensure({ code: 'crashed', nom: 'Crashed' })).toMatchObject({
      created: true,
      databaseCreated: false,
    });
  });

  it('never adopts or drops the databases of another installation sharing the tenant prefix', async () => {
    const otherAuth = `${environment.prefix}_auth2`;
    const other = await createTestContext(TestModule, environment, { DB_AUTH_NAME: otherAuth });
    try {
      await other.get(DatabaseAdminService).create({ database: otherAuth });
      await other.get(SchemaMigrationService).run({ database: otherAuth }, 'auth');
      await ensure({ code: 'twin', nom: 'Twin' });
      const commentOf = async () =>
        (
          await environment.query<{ comment: string }>(
            'postgres',
            "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
            [tenantDatabase('twin')],
          )
        )[0].comment;
      const before = await commentOf();
      expect(before).toContain(`installation=${environment.names.auth}`);
      const adopt = await ensureWith(other, { code: 'twin', nom: 'Twin' }).catch((caught: unknown) => caught);
      expect(adopt).toMatchObject({ code: 'NOT_OWNED_BY_TOOL' });
      expect((adopt as Error).message).toContain(tenantDatabase('twin'));
      expect((adopt as Error).message).toContain(environment.names.auth);
      await expect(
        other
          .get(DatabaseAdminService)
          .drop({ database: tenantDatabase('twin') }, { requireOwnership: true }),
      ).rejects.toMatchObject({ code: 'NOT_OWNED_BY_TOOL' });
      expect(await environment.databaseExists(tenantDatabase('twin'))).toBe(true);
      expect(await commentOf()).toBe(before);
      expect(await environment.query(otherAuth, "SELECT 1 FROM societes WHERE code = 'TWIN'")).toHaveLength(
        0,
      );
    } finally {
      await other.close();
    }
  });

  it('adds and removes members idempotently, and ignores deleted users', async () => {
    const alice = await insertUser('alice@topsteel.fr');
    const gone = await insertUser('gone@topsteel.fr', { deleted: true });
    expect(await members.addMember('ACME', 'alice@topsteel.fr', { isDefault: true })).toMatchObject({
      added: true,
      userId: alice,
    });
    expect((await members.addMember('acme', alice, { role: 'admin' })).added).toBe(false);
    await members.addMember('TOPSTEEL', alice);
    expect(await members.societesOf(alice)).toEqual([
      expect.objectContaining({ code: 'ACME', role: 'admin', isDefault: true }),
      expect.objectContaining({ code: 'TOPSTEEL', role: 'member', isDefault: false }),
    ]);
    expect((await members.members('ACME')).map((member) => member.email)).toEqual(['alice@topsteel.fr']);
    expect(await members.membership(alice, 'acme')).toMatchObject({
      code: 'ACME',
      location: { database: tenantDatabase('acme') },
    });
    expect(await members.removeMember('ACME', alice)).toEqual({ removed: true });
    expect(await members.removeMember('ACME', alice)).toEqual({ removed: false });
    expect(await members.membership(alice, 'ACME')).toBeNull();
    await expect(members.addMember('ACME', gone)).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(members.addMember('NOPE', alice)).rejects.toMatchObject({ code: 'SOCIETE_NOT_FOUND' });
  });

  it('refuses, without creating anything, when AUTH has not been migrated', async () => {
    const bare = TestEnvironment.create('provbare');
    const bareContext = await createTestContext(TestModule, bare);
    try {
      await expect(ensureWith(bareContext, { code: 'acme', nom: 'Acme' })).rejects.toMatchObject({
        code: 'AUTH_NOT_READY',
      });
      expect(await bare.databaseExists(`${bare.prefix}_acme`)).toBe(false);
    } finally {
      await bareContext.close();
      await bare.cleanup();
    }
  });

  it('validates without connecting', () => {
    expect(provisioning.validate({ code: ' acme ', nom: ' Acme ' })).toMatchObject({
      code: 'ACME',
      nom: 'Acme',
      databaseName: tenantDatabase('acme'),
    });
  });
});
