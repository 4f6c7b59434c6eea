import { RunningApp } from '../../../../test/harness/http-app';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { ACCOUNTS, ERROR_KEYS, PASSWORD, seedSecuredSplit, startApp } from './secured-app';

type ErrorBody = { statusCode: number; error: string; message: string; requestId: string };

/** Issue 14, defect 4: failed logins are throttled per e-mail and per client address. */
describe('POST /auth/login throttling', () => {
  const environment = TestEnvironment.create('httpthrottle');
  let app: RunningApp;

  const login = (email: string, password: string) =>
    app.request<ErrorBody>('/auth/login', { body: { email, password } });

  const expectThrottled = (response: Awaited<ReturnType<typeof login>>) => {
    expect(response.status).toBe(429);
    expect(Object.keys(response.body).sort()).toEqual(ERROR_KEYS);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  };

  beforeAll(async () => {
    await seedSecuredSplit(environment);
    // The default per-e-mail figures; the per-address limit is raised here (every test request
    // comes from 127.0.0.1) and checked on its own app below.
    app = await startApp(environment, { LOGIN_MAX_FAILURES_PER_ADDRESS: '1000' });
  });

  afterAll(async () => {
    await app?.stop();
    await environment.cleanup();
  });

  it('answers 429 with Retry-After after 10 failures for one e-mail, even to the right password', async () => {
    for (let attempt = 0; attempt < 10; attempt += 1)
      expect((await login(ACCOUNTS.operator.email, `wrong-${attempt}`)).status).toBe(401);
    expectThrottled(await login(ACCOUNTS.operator.email, 'wrong-again'));
    expectThrottled(await login(ACCOUNTS.operator.email, PASSWORD));
    expectThrottled(await login(ACCOUNTS.operator.email.toUpperCase(), PASSWORD));
    // Another account from the same address is not affected.
    expect((await login(ACCOUNTS.admin.email, PASSWORD)).status).toBe(200);
  });

  it('treats an unknown e-mail the same way, so throttling does not reveal which accounts exist', async () => {
    for (let attempt = 0; attempt < 10; attempt += 1)
      expect((await login('nobody@topsteel.fr', PASSWORD)).status).toBe(401);
    expectThrottled(await login('nobody@topsteel.fr', PASSWORD));
  });

  it("resets the e-mail's counter on a successful login", async () => {
    for (let attempt = 0; attempt < 9; attempt += 1)
      expect((await login(ACCOUNTS.acmeAdmin.email, 'wrong')).status).toBe(401);
    expect((await login(ACCOUNTS.acmeAdmin.email, PASSWORD)).status).toBe(200);
    for (let attempt = 0; attempt < 9; attempt += 1)
      expect((await login(ACCOUNTS.acmeAdmin.email, 'wrong')).status).toBe(401);
    expect((await login(ACCOUNTS.acmeAdmin.email, PASSWORD)).status).toBe(200);
  });

  describe('per client address', () => {
    let strict: RunningApp;

    beforeAll(async () => {
      strict = await startApp(environment, { LOGIN_MAX_FAILURES_PER_ADDRESS: '5' });
    });
    afterAll(() => strict?.stop());

    it('answers 429 once one address has failed with several e-mails', async () => {
      for (let index = 0; index < 5; index += 1) {
        const response = await strict.request('/auth/login', {
          body: { email: `guess${index}@topsteel.fr`, password: 'guess' },
        });
        expect(response.status).toBe(401);
      }
      const blocked = await strict.request<ErrorBody>('/auth/login', {
        body: { email: ACCOUNTS.admin.email, password: PASSWORD },
      });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('bcrypt work', () => {
    let narrow: RunningApp;

    beforeAll(async () => {
      narrow = await startApp(environment, {
        LOGIN_MAX_FAILURES_PER_ADDRESS: '1000',
        LOGIN_MAX_CONCURRENT_HASHES: '1',
        LOGIN_MAX_QUEUED_HASHES: '2',
      });
    });
    afterAll(() => narrow?.stop());

    it('queues a few logins and turns the rest of a flood away with 429 before hashing', async () => {
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          narrow.request<ErrorBody>('/auth/login', {
            body: { email: `flood${index}@topsteel.fr`, password: 'guess' },
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
      // At most one hashing and two waiting at any moment: most of a simultaneous flood is refused.
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(20);
      expect(statuses.filter((status) => status === 401).length).toBeGreaterThan(0);
      for (const answer of answers.filter((entry) => entry.status === 429))
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      // Once the flood is over, logins work again.
      expect(
        (await narrow.request('/auth/login', { body: { email: ACCOUNTS.admin.email, password: PASSWORD } }))
          .status,
      ).toBe(200);
    });
  });
});
