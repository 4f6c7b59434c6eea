import { inspect } from 'node:util';
import { redactSecrets, Secret } from './secret';

describe('secrets', () => {
  it('redacts registered secrets wherever they appear', () => {
    new Secret('Tr0ub4dor&3');
    expect(redactSecrets('password authentication failed: Tr0ub4dor&3')).toBe(
      'password authentication failed: [redacted]',
    );
  });

  it('redacts passwords in connection strings and conninfo', () => {
    expect(redactSecrets('postgres://app:hunter2@db:5432/x')).toBe('postgres://app:[redacted]@db:5432/x');
    expect(redactSecrets("host=db password='a b' user=x")).toBe('host=db password=[redacted] user=x');
  });

  it('prints as [redacted] through every serialiser', () => {
    const secret = new Secret('s3cr3t-value');
    expect(String(secret)).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).not.toContain('s3cr3t-value');
  });
});
