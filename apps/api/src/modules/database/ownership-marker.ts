/** Marker written as the database comment: it survives even when the journal in AUTH is gone. */
export const OWNERSHIP_MARKER = 'topsteel-migration';

/**
 * An installation is named by its AUTH database: two installations on one server cannot share an
 * AUTH database, but they can share `DB_TENANT_PREFIX`, and then the same tenant database names.
 */
const INSTALLATION = /(?:^|\s)installation=([a-z_][a-z0-9_]{0,62})(?:\s|$)/;

/**
 * - `ours`: marked by this installation, or by a version of the tool that did not name the
 *   installation yet (those databases are still only dropped when this journal records them);
 * - `other-installation`: marked by the installation whose AUTH database is `installation`;
 * - `unmarked`: not created by the tool.
 */
export type Ownership =
  { owner: 'ours' } | { owner: 'other-installation'; installation: string } | { owner: 'unmarked' };

/** The comment to write on a database this installation creates or adopts. */
export function ownershipMarker(authDatabase: string, note?: string): string {
  return [OWNERSHIP_MARKER, note, `installation=${authDatabase}`].filter(Boolean).join(' ');
}

/**
 * Reads a database comment as this installation (named by its AUTH database) sees it. Provisioning,
 * the split, status and rollback all decide "is it ours" through here, so they never disagree.
 */
export function readOwnership(comment: string | null | undefined, authDatabase: string): Ownership {
  if (!comment || !(comment === OWNERSHIP_MARKER || comment.startsWith(`${OWNERSHIP_MARKER} `)))
    return { owner: 'unmarked' };
  const installation = INSTALLATION.exec(comment)?.[1];
  if (installation === undefined || installation === authDatabase) return { owner: 'ours' };
  return { owner: 'other-installation', installation };
}

export function isOurs(comment: string | null | undefined, authDatabase: string): boolean {
  return readOwnership(comment, authDatabase).owner === 'ours';
}
