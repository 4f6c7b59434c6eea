import { inspect } from 'node:util';
import { redactedJson, redactSecrets, Secret } from './secret';

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

  it('scrubs a secret holding " and \\ from text serialised before it was scrubbed', () => {
    const secret = new Secret('Pa"55\\Quote-Check').reveal();
    const serialised = JSON.stringify({ message: `login failed with ${secret}` });
    expect(serialised).not.toContain(secret);
    expect(redactSecrets(serialised)).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(redactSecrets(serialised))).toEqual({ message: 'login failed with [redacted]' });
  });

  it('scrubs values before serialising a document, and password fields whatever they hold', () => {
    const secret = new Secret('Pa"55\\Doc-Check').reveal();
    const text = redactedJson(
      { error: { message: `x ${secret} y`, details: [secret] }, password: 'hunter2' },
      2,
    );
    expect(JSON.parse(text)).toEqual({
      error: { message: 'x [redacted] y', details: ['[redacted]'] },
      password: '[redacted]',
    });
  });

  it('keeps a password equal to a name the tool prints readable as that name, never as a password', () => {
    new Secret('postgres', { publicNames: ['localhost', 'postgres', 'erp_topsteel'] });
    expect(redactSecrets('cannot reach database "postgres" on localhost:5432')).toBe(
      'cannot reach database "postgres" on localhost:5432',
    );
    expect(redactSecrets('postgres://postgres:postgres@db/x')).toBe('postgres://postgres:[redacted]@db/x');
    expect(redactSecrets('PGPASSWORD=postgres psql')).toBe('PGPASSWORD=[redacted] psql');
    expect(JSON.parse(redactedJson({ password: 'postgres', database: 'postgres' }))).toEqual({
      password: '[redacted]',
      database: 'postgres',
    });
  });
});
