import { loadAppConfig } from '../app-config';
import { LoginThrottleService, TooManyRequestsException } from './login-throttle.service';

const throttle = (env: Record<string, string> = {}) =>
  new LoginThrottleService(loadAppConfig({ JWT_SECRET: 'x'.repeat(40), ...env }));
const START = 1_700_000_000_000;
const MINUTE = 60_000;

function retryAfter(work: () => void): number | null {
  try {
    work();
    return null;
  } catch (error) {
    if (error instanceof TooManyRequestsException) return error.retryAfterSeconds;
    throw error;
  }
}

describe('LoginThrottleService', () => {
  it('blocks an e-mail after 10 failures in 15 minutes, until the oldest one leaves the window', () => {
    const service = throttle();
    for (let index = 0; index < 10; index += 1) {
      expect(
        retryAfter(() => service.assertAllowed('Jean@TopSteel.fr', '10.0.0.1', START + index * MINUTE)),
      ).toBeNull();
      service.recordFailure('jean@topsteel.fr', `10.0.0.${index}`, START + index * MINUTE);
    }
    expect(retryAfter(() => service.assertAllowed('jean@topsteel.fr', '10.9.9.9', START + 10 * MINUTE))).toBe(
      5 * 60,
    );
    expect(
      retryAfter(() => service.assertAllowed('jean@topsteel.fr', '10.9.9.9', START + 15 * MINUTE + 1)),
    ).toBeNull();
    expect(
      retryAfter(() => service.assertAllowed('marie@topsteel.fr', '10.9.9.9', START + 10 * MINUTE)),
    ).toBeNull();
  });

  it('blocks an address after its own limit, whatever the e-mail, and a success does not clear it', () => {
    const service = throttle({ LOGIN_MAX_FAILURES_PER_ADDRESS: '3' });
    for (let index = 0; index < 3; index += 1) service.recordFailure(`user${index}@x.fr`, '10.0.0.1', START);
    service.recordSuccess('user0@x.fr');
    expect(retryAfter(() => service.assertAllowed('other@x.fr', '10.0.0.1', START + 1000))).toBeGreaterThan(
      0,
    );
    expect(retryAfter(() => service.assertAllowed('other@x.fr', '10.0.0.2', START + 1000))).toBeNull();
  });

  it("clears the e-mail's failures on success", () => {
    const service = throttle();
    for (let index = 0; index < 10; index += 1)
      service.recordFailure('jean@topsteel.fr', `10.0.0.${index}`, START);
    service.recordSuccess(' JEAN@topsteel.fr ');
    expect(retryAfter(() => service.assertAllowed('jean@topsteel.fr', '10.1.1.1', START + 1000))).toBeNull();
  });
});
