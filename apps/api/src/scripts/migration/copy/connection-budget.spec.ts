import {
  fitJobs,
  keyValidationSessions,
  roomToVerifyBesideKeys,
  sessionsNeeded,
  sessionsVerifyingBesideKeys,
  targetHashSessions,
} from './connection-budget.service';

const room = (free: number) => ({ free, limitedBy: 'role' as const, detail: `${free} free` });

describe('the connection budget of the verification beside the keys', () => {
  it('counts every session open at once in the tail of a two-worker split', () => {
    // lock, journal, snapshot, 1 reader beside the copy; keys 2 + 2; ANALYZE 3; link 1;
    // verification: 3 databases, 1 more on the tenant, 1 source reader, 1 fresh snapshot.
    expect(sessionsVerifyingBesideKeys(2)).toBe(4 + 4 + 3 + 1 + 6);
  });

  it('counts the sessions the keys and the hashes open per database as those steps open them', () => {
    expect([keyValidationSessions('tenant', 4), keyValidationSessions('auth', 4)]).toEqual([4, 1]);
    expect([
      targetHashSessions('tenant', 1),
      targetHashSessions('tenant', 2),
      targetHashSessions('shared', 8),
    ]).toEqual([1, 2, 1]);
  });

  it('keeps the verification after the keys for a role whose limit only fits the copy', () => {
    const decision = fitJobs(8, room(12));
    expect(decision.jobs).toBe(2);
    expect(sessionsNeeded(2)).toBe(12);
    expect(roomToVerifyBesideKeys(decision)).toBe(false);
  });

  it('starts it beside the keys when the server has room for both', () => {
    expect(roomToVerifyBesideKeys(fitJobs(undefined, room(97), 2))).toBe(true);
    expect(roomToVerifyBesideKeys(fitJobs(2, room(sessionsVerifyingBesideKeys(2)), 2))).toBe(true);
    expect(roomToVerifyBesideKeys(fitJobs(2, room(sessionsVerifyingBesideKeys(2) - 1), 2))).toBe(false);
  });

  it('never asks more than the copy itself once there are many workers', () => {
    for (const jobs of [6, 8])
      expect(sessionsVerifyingBesideKeys(jobs)).toBeLessThanOrEqual(sessionsNeeded(jobs));
  });
});
