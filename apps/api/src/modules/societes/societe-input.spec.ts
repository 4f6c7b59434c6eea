import { validateSocieteCode, validateSocieteInput } from './societe-input';

function errorOf(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('société input', () => {
  it('stores the code upper-case and derives the tenant database name lower-case', () => {
    expect(validateSocieteCode(' Acme_2 ', 'erp_topsteel')).toEqual({
      code: 'ACME_2',
      databaseName: 'erp_topsteel_acme_2',
    });
  });

  it.each(['acme-corp', 'a b', '', '9lives', 'é', 'x;drop', 'a"b'])('refuses the unsafe code %j', (code) => {
    expect(errorOf(() => validateSocieteCode(code, 'erp_topsteel'))).toMatchObject({
      code: 'INVALID_SOCIETE_CODE',
      exitCode: 2,
    });
  });

  it('keeps "<prefix>_<code>" within 63 characters', () => {
    const prefix = 'p'.repeat(20);
    expect(validateSocieteCode('c'.repeat(42), prefix).databaseName).toHaveLength(63);
    expect(() => validateSocieteCode('c'.repeat(43), prefix)).toThrow(/too long: at most 42/);
    expect(() => validateSocieteCode('c'.repeat(51), 'p')).toThrow(/at most 50/);
  });

  it('validates the name, id, host and port', () => {
    const base = { code: 'acme', nom: 'Acme' };
    expect(validateSocieteInput({ ...base, host: ' ', port: null }, 'erp')).toMatchObject({
      host: null,
      port: null,
      id: null,
    });
    for (const bad of [
      { ...base, nom: '   ' },
      { ...base, nom: 'a\u0000b' },
      { ...base, id: 'not-a-uuid' },
      { ...base, host: 'postgres://user:pw@host' },
      { ...base, port: 70000 },
    ]) {
      expect(errorOf(() => validateSocieteInput(bad, 'erp'))).toMatchObject({
        code: 'INVALID_SOCIETE_INPUT',
      });
    }
  });
});
