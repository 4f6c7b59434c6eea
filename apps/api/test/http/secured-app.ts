import { ADMIN_ACCOUNT } from '@topsteel/legacy-fixture';
import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { SplitFixture } from './split-fixture';

/** Every account below logs in with this password (the legacy fixture's admin hash, bcrypt cost 10). */
export const PASSWORD = ADMIN_ACCOUNT.password;

export type Account = { email: string; role: string; societes: { code: string; role: string }[] };

/**
 * The accounts of the app's security tests: a global ADMIN of TOPSTEEL only (the attacker of issue
 * 14), ACME's own administrator (not a global ADMIN), a global ADMIN who is a plain member of ACME,
 * and an operator of TOPSTEEL.
 */
export const ACCOUNTS = {
  admin: { email: 'admin@topsteel.fr', role: 'ADMIN', societes: [{ code: 'TOPSTEEL', role: 'admin' }] },
  acmeAdmin: { email: 'chef@acme.fr', role: 'OPERATEUR', societes: [{ code: 'ACME', role: 'admin' }] },
  acmeMember: { email: 'membre@acme.fr', role: 'ADMIN', societes: [{ code: 'ACME', role: 'member' }] },
  operator: {
    email: 'ouvrier@topsteel.fr',
    role: 'OPERATEUR',
    societes: [{ code: 'TOPSTEEL', role: 'member' }],
  },
} satisfies Record<string, Account>;

/** The small JSON shape of every 4xx/5xx answer. */
export const ERROR_KEYS = ['error', 'message', 'requestId', 'statusCode'];

/**
 * Split databases without a monolith (SplitFixture), sociétés TOPSTEEL and ACME with two clients
 * each, the accounts above, and nothing else open: every `topsteel-*` session on this environment's
 * databases afterwards belongs to the app under test.
 */
export async function seedSecuredSplit(environment: TestEnvironment): Promise<void> {
  const fixture = await SplitFixture.create(environment);
  try {
    const societes = await fixture.societes([
      { code: 'TOPSTEEL', nom: 'TopSteel' },
      { code: 'ACME', nom: 'Acme' },
    ]);
    for (const societe of societes) {
      await environment.query(
        societe.database,
        `INSERT INTO clients (nom, numero_client, societe_id)
         SELECT $2 || ' client ' || n, $2 || '-' || n, $1::uuid FROM generate_series(1, 2) n`,
        [societe.societeId, societe.code],
      );
    }
    for (const account of Object.values(ACCOUNTS) as Account[]) {
      await environment.query(
        environment.names.auth,
        "INSERT INTO users (nom, prenom, email, password, role) VALUES ('Test', 'User', $1, $2, $3)",
        [account.email, ADMIN_ACCOUNT.hash, account.role],
      );
      for (const membership of account.societes) {
        await environment.query(
          environment.names.auth,
          `INSERT INTO societe_users (societe_id, user_id, role, is_default)
           SELECT s.id, u.id, $3, true FROM societes s, users u WHERE s.code = $1 AND u.email = $2`,
          [membership.code, account.email, membership.role],
        );
      }
    }
  } finally {
    await fixture.close();
  }
}

export async function startApp(
  environment: TestEnvironment,
  overrides: Record<string, string> = {},
): Promise<RunningApp> {
  return RunningApp.start(environment.env(overrides));
}
