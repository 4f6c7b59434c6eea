import { INestApplicationContext, Module } from '@nestjs/common';
import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { Secret } from '../../src/common/secrets/secret';
import { AccessCheckModule } from '../../src/modules/access-check/access-check.module';
import { AccessCheckService } from '../../src/modules/access-check/access-check.service';
import { AuthenticatedUser } from '../../src/modules/access/authentication.service';
import { TenantAccessService, TenantGrant } from '../../src/modules/access/tenant-access.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from '../http/split-fixture';

@Module({ imports: [DatabaseMultiTenantModule, AccessCheckModule] })
class VerifyModule {}

/** What db:verify gets: the app's login, membership and tenant routing, without HTTP or JWT_SECRET. */
describe('AccessCheckService', () => {
  const environment = TestEnvironment.create('accesscheck');
  const password = new Secret(ADMIN_ACCOUNT.password);
  let fixture: SplitFixture;
  let context: INestApplicationContext;
  let checks: AccessCheckService;

  beforeAll(async () => {
    fixture = await SplitFixture.create(environment);
    const [alpha] = await fixture.societes([
      { code: 'ALPHA', nom: 'Alpha' },
      { code: 'BETA', nom: 'Beta' },
    ]);
    for (const email of ['alice@topsteel.fr', 'bob@topsteel.fr'])
      await environment.query(
        environment.names.auth,
        "INSERT INTO users (nom, prenom, email, password, role) VALUES ('N', 'P', $1, $2, 'OPERATEUR')",
        [email, ADMIN_ACCOUNT.hash],
      );
    await fixture.addMember('ALPHA', 'alice@topsteel.fr', { isDefault: true });
    await fixture.addMember('BETA', 'bob@topsteel.fr');
    await environment.query(
      alpha.database,
      "INSERT INTO clients (nom, societe_id) VALUES ('Client A1', $1), ('Client A2', $1)",
      [alpha.societeId],
    );
    context = await createTestContext(VerifyModule, environment);
    checks = context.get(AccessCheckService);
  });

  afterAll(async () => {
    await context?.close();
    await fixture?.close();
    await environment.cleanup();
  });

  it('logs in with the legacy hash, reads the société and shared data, and proves isolation', async () => {
    const report = await checks.checkLogin('alice@topsteel.fr', password);
    expect(report.ok).toBe(true);
    expect(report.societes.map((societe) => societe.code)).toEqual(['ALPHA']);
    expect(report.checks).toEqual([
      { name: 'login', ok: true, detail: 'logged in as alice@topsteel.fr (OPERATEUR)' },
      { name: 'societes', ok: true, detail: 'member of ALPHA' },
      { name: 'tenant ALPHA', ok: true, detail: '2 clients readable' },
      { name: 'shared', ok: true, detail: 'shared materials readable (none)' },
      { name: 'isolation BETA', ok: true, detail: 'refused (403)' },
    ]);
    expect(JSON.stringify(report)).not.toContain(ADMIN_ACCOUNT.password);
  });

  it('reports a failed login without throwing', async () => {
    const report = await checks.checkLogin('alice@topsteel.fr', new Secret('wrong password'));
    expect(report).toMatchObject({ ok: false, user: null, checks: [{ name: 'login', ok: false }] });
  });

  it('answers membership questions by code or id', async () => {
    const alice = await checks.login('ALICE@topsteel.fr', password);
    expect(await checks.isMember(alice, 'alpha')).toBe(true);
    expect(await checks.isMember(alice, 'BETA')).toBe(false);
    expect(await checks.isMember(alice, 'NOSUCH')).toBe(false);
    const [alpha] = await checks.societesOf(alice);
    expect(await checks.isMember(alice, alpha.societeId ?? '')).toBe(true);
  });

  it('refuses principals and grants it did not issue', async () => {
    const tenantAccess = context.get(TenantAccessService);
    const alice = await checks.login('alice@topsteel.fr', password);
    const forgedUser: AuthenticatedUser = { ...alice };
    await expect(tenantAccess.authorize(forgedUser, 'ALPHA')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const grant = await tenantAccess.authorize(alice, 'ALPHA');
    const forgedGrant: TenantGrant = { ...grant, societe: { ...grant.societe, code: 'BETA' } };
    await expect(tenantAccess.withTenant(forgedGrant, async () => 'reached')).rejects.toMatchObject({
      code: 'GRANT_NOT_ISSUED',
    });
    expect(await tenantAccess.withTenant(grant, async () => 'reached')).toBe('reached');
  });
});
