import { basename } from 'node:path';
import { Client } from 'pg';
import { CleanArchiveManifest } from './clean-archive';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { readRestoreMarkers } from './restore-markers';
import { transactionOutcome } from './transaction-record';

/**
 * Whether an archive may be put back, from what PostgreSQL knows of two kinds of transaction:
 *  - the clean that wrote it must have committed: an archive is complete before the delete runs,
 *    so a clean killed before COMMIT leaves one describing rows that are still there;
 *  - no earlier restore of it may have committed.
 * Keys used to be the only evidence; they still are when PostgreSQL cannot tell (archives of
 * earlier versions, ids older than the commit log it keeps, a database replaced since). Rows of a
 * table without primary key cannot be told from copies, so there an unknown outcome refuses unless
 * the operator, having checked, passes --accept-duplicate-risk.
 * Called with the archived tables locked: any transaction that held them has ended, so its
 * outcome is final. Returns what it established, for the report.
 */
export async function checkRestoreHistory(
  client: Client,
  archive: { path: string; manifest: CleanArchiveManifest },
  options: { acceptDuplicateRisk: boolean },
): Promise<string[]> {
  const { manifest } = archive;
  const name = basename(archive.path);
  const established: string[] = [];
  const unknown: string[] = [];

  const clean = await transactionOutcome(client, manifest.transaction);
  const cleanId = manifest.transaction?.id;
  if (clean === 'aborted' || clean === 'in progress')
    throw new CleanException(
      CleanExceptionCode.CleanNotCommitted,
      `archive ${name} describes rows that were never deleted: the clean's transaction ${cleanId} never committed (${clean === 'aborted' ? 'it was rolled back' : 'it is still in progress'})`,
      { transaction: cleanId, outcome: clean },
    );
  if (clean === 'committed') established.push(`the clean's transaction ${cleanId} committed`);
  else
    unknown.push(
      manifest.transaction
        ? `whether the clean's transaction ${cleanId} committed`
        : 'whether the clean committed (the archive does not record its transaction)',
    );

  for (const { file, marker } of readRestoreMarkers(archive.path)) {
    const outcome = marker ? await transactionOutcome(client, marker.transaction) : 'unknown';
    if (outcome === 'committed' || outcome === 'in progress')
      throw new CleanException(
        CleanExceptionCode.AlreadyRestored,
        `archive ${name} was already restored at ${marker?.startedAt} (run ${marker?.runId}, transaction ${marker?.transaction.id}${outcome === 'in progress' ? ', still committing' : ''})`,
        { marker: file },
      );
    if (outcome === 'aborted') established.push(`the restore of ${file} was rolled back`);
    else unknown.push(`whether the earlier restore recorded in ${file} committed`);
  }
  if (unknown.length === 0) return established;

  const keyless = manifest.tables
    .filter((table) => table.action === 'deleted' && !table.primaryKey)
    .map((table) => table.table);
  if (keyless.length === 0)
    return [...established, `PostgreSQL cannot tell ${unknown.join(', nor ')}: the archived keys decide`];
  if (!options.acceptDuplicateRisk)
    throw new CleanException(
      CleanExceptionCode.RestoreUnverifiable,
      `cannot tell ${unknown.join(', nor ')}, and ${keyless.join(', ')} ${keyless.length === 1 ? 'has' : 'have'} no primary key by which rows already there could be recognised`,
      { tables: keyless },
    );
  return [
    ...established,
    `PostgreSQL cannot tell ${unknown.join(', nor ')}: rows of ${keyless.join(', ')} restored on --accept-duplicate-risk`,
  ];
}
