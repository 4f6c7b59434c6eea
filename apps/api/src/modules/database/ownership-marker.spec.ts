import { isOurs, ownershipMarker, readOwnership } from './ownership-marker';

describe('ownership marker', () => {
  it('names the installation by its AUTH database', () => {
    expect(ownershipMarker('erp_auth', 'tenant ACME run=1')).toBe(
      'topsteel-migration tenant ACME run=1 installation=erp_auth',
    );
  });

  it("reads this installation's marker as ours and another's as another installation's", () => {
    const marker = ownershipMarker('erp_auth', 'tenant ACME run=1');
    expect(readOwnership(marker, 'erp_auth')).toEqual({ owner: 'ours' });
    expect(readOwnership(marker, 'other_auth')).toEqual({
      owner: 'other-installation',
      installation: 'erp_auth',
    });
    expect(isOurs(marker, 'other_auth')).toBe(false);
  });

  it('reads a marker from before installations were named as ours (still only dropped when journaled)', () => {
    expect(readOwnership('topsteel-migration tenant ACME run=1', 'erp_auth')).toEqual({ owner: 'ours' });
  });

  it('reads anything else as unmarked', () => {
    expect(readOwnership(null, 'erp_auth')).toEqual({ owner: 'unmarked' });
    expect(readOwnership('topsteel-migrationX', 'erp_auth')).toEqual({ owner: 'unmarked' });
    expect(readOwnership('a DBA database', 'erp_auth')).toEqual({ owner: 'unmarked' });
  });
});
