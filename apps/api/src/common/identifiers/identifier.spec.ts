import { quoteIdentifier, quoteLiteral, safeIdentifier } from './identifier';
import { IdentifierException } from './identifier.exception';

describe('identifiers', () => {
  it.each(['erp_topsteel', 'TOPSTEEL', '_x', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(safeIdentifier(name, 'name')).toBe(name.toLowerCase());
  });

  it.each(['erp"; drop database x; --', '', '1abc', 'a-b', 'a b', 'é', 'a'.repeat(64), 'a;b'])(
    'refuses %j before any SQL',
    (name) => {
      expect(() => safeIdentifier(name, 'name')).toThrow(IdentifierException);
    },
  );

  it('quotes catalogue names, doubling embedded quotes', () => {
    expect(quoteIdentifier('isActive')).toBe('"isActive"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(() => quoteIdentifier('')).toThrow(IdentifierException);
  });

  it('quotes literals', () => {
    expect(quoteLiteral("l'atelier")).toBe("'l''atelier'");
  });
});
