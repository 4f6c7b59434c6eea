import { INestApplicationContext, Module } from '@nestjs/common';
import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { getRounds, hash } from 'bcryptjs';
import { AccessModule } from '../../src/modules/access/access.module';
import { AuthenticationService } from '../../src/modules/access/authentication.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from '../http/split-fixture';

@Module({ imports: [DatabaseMultiTenantModule, AccessModule.register({ mode: 'multi-tenant' })] })
class AuthenticationModule {}

/**
 * Issue 14, defect 4: an unknown e-mail is compared against a dummy hash that costs what the real
 * hashes cost, else its faster answer tells an attacker which addresses have an account.
 */
describe('AuthenticationService timing hash', () => {
  const environment = TestEnvironment.create('timinghash');
  let fixture: SplitFixture;
  let context: INestApplicationContext;

  beforeAll(async () => {
    fixture = await SplitFixture.create(environment);
    const costly = await hash('a legacy password', 11);
    for (const [email, password] of [
      ['a@topsteel.fr', costly],
      ['b@topsteel.fr', costly],
      ['c@topsteel.fr', ADMIN_ACCOUNT.hash],
      ['d@topsteel.fr', ''],
    ])
      await environment.query(
        environment.names.auth,
        "INSERT INTO users (nom, prenom, email, password, role) VALUES ('N', 'P', $1, $2, 'OPERATEUR')",
        [email, password],
      );
    context = await createTestContext(AuthenticationModule, environment);
  });

  afterAll(async () => {
    await context?.close();
    await fixture?.close();
    await environment.cleanup();
  });

  it('uses the bcrypt cost most legacy hashes use', async () => {
    const authentication = context.get(AuthenticationService);
    expect(getRounds(await authentication.timingHash())).toBe(11);
    await expect(
      authentication.authenticate('nobody@topsteel.fr', 'a legacy password'),
    ).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    await expect(authentication.authenticate('d@topsteel.fr', 'x')).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });
    expect((await authentication.authenticate('a@topsteel.fr', 'a legacy password')).email).toBe(
      'a@topsteel.fr',
    );
  });
});
