import { DEMO_EMAIL_PREDICATE } from '../../src/scripts/migration/clean/clean-rules';
import { TestEnvironment } from '../../../../test/harness/test-environment';

/**
 * db:clean, the audit and the pre-flight select demo accounts by the domain after the last "@",
 * compared whole. The predicate says it without a regular expression: it must select exactly the
 * addresses the domain itself selects.
 */
describe('demo e-mail predicate', () => {
  const environment = TestEnvironment.create('demoemail');
  afterAll(() => environment.cleanup());

  it('selects exactly the addresses whose whole domain, after the last @, is a demo domain', async () => {
    const emails = [
      'alice@example.com',
      'BOB@Example.COM',
      'a@b@example.com',
      'example.com@topsteel.fr',
      'contact@contest.fr',
      'alice.test@topsteel.fr',
      'x@sub.example.com',
      'x@example.com.evil',
      'x@notexample.com',
      'x@example.com ',
      'example.com',
      '@test.local',
      'x@test.local',
      'x@example.org',
      '',
      null,
    ];
    const domains = ['example.com', 'example.org', 'test.local'];
    const rows = await environment.query<{ email: string | null; selected: boolean; domain: string | null }>(
      'postgres',
      `SELECT email, coalesce(${DEMO_EMAIL_PREDICATE}, false) AS selected,
              lower(substring(email from '@([^@]*)$')) AS domain
       FROM unnest($2::text[]) AS email`,
      [domains, emails],
    );
    const expected = rows.map((row) => row.domain !== null && domains.includes(row.domain));
    expect(rows.map((row) => row.selected)).toEqual(expected);
    expect(rows.filter((row) => row.selected).map((row) => row.email)).toEqual([
      'alice@example.com',
      'BOB@Example.COM',
      'a@b@example.com',
      '@test.local',
      'x@test.local',
      'x@example.org',
    ]);
  });
});
