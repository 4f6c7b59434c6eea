import { ConfigException } from '../database/config/config.exception';
import { loadAppConfig } from './app-config';

const SECRET = 'x'.repeat(40);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigException) return error.problems.map((problem) => problem.variable);
    throw error;
  }
  return [];
}

describe('loadAppConfig', () => {
  it('applies the defaults', () => {
    const config = loadAppConfig({ JWT_SECRET: SECRET });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      mode: 'multi-tenant',
      tokenTtlSeconds: 3600,
    });
    expect(config.jwtSecret.reveal()).toBe(SECRET);
    expect(JSON.stringify(config)).not.toContain(SECRET);
  });

  it('reads the mode and the port', () => {
    expect(loadAppConfig({ JWT_SECRET: SECRET, DB_MODE: 'Monolith', PORT: '8080' })).toMatchObject({
      mode: 'monolith',
      port: 8080,
    });
  });

  it('names every bad variable, never its value', () => {
    const env = { JWT_SECRET: 'short-secret-value', PORT: '99999', DB_MODE: 'split' };
    expect(problemsOf(env)).toEqual(['PORT', 'DB_MODE', 'JWT_SECRET']);
    try {
      loadAppConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret-value');
      expect((error as ConfigException).exitCode).toBe(2);
    }
  });

  it('requires JWT_SECRET', () => {
    expect(problemsOf({})).toEqual(['JWT_SECRET']);
    expect(problemsOf({ JWT_SECRET: '   ' })).toEqual(['JWT_SECRET']);
  });

  it('reads the login limits and a previous JWT secret, refusing a short one', () => {
    expect(loadAppConfig({ JWT_SECRET: SECRET }).login).toEqual({
      maxFailuresPerEmail: 10,
      maxFailuresPerAddress: 50,
      failureWindowSeconds: 900,
      maxConcurrentHashes: 2,
      maxQueuedHashes: 50,
    });
    expect(loadAppConfig({ JWT_SECRET: SECRET }).jwtPreviousSecret).toBeNull();
    expect(
      loadAppConfig({ JWT_SECRET: SECRET, JWT_PREVIOUS_SECRET: 'y'.repeat(40) }).jwtPreviousSecret?.reveal(),
    ).toBe('y'.repeat(40));
    expect(
      problemsOf({ JWT_SECRET: SECRET, JWT_PREVIOUS_SECRET: 'short', LOGIN_MAX_FAILURES_PER_EMAIL: '0' }),
    ).toEqual(['JWT_PREVIOUS_SECRET', 'LOGIN_MAX_FAILURES_PER_EMAIL']);
  });
});
