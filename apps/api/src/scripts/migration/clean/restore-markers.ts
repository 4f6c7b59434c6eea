import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncPath } from '../../../common/fs/durable-files';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { TransactionRecord } from './transaction-record';

/**
 * A restore leaves `restored-<transaction id>.json` in the archive folder, written durably before
 * its COMMIT is sent. The file alone proves nothing (the COMMIT may fail, or never be sent): the
 * transaction it names is asked about later, and only a committed one means "already restored".
 * Recording before COMMIT, not after, is what survives a kill -9 or a lost connection during it.
 */
export type RestoreMarker = {
  kind: 'clean-restore';
  transaction: TransactionRecord;
  runId: string;
  startedAt: string;
};

const MARKER = /^restored-(\d+)\.json$/;

/** The markers of earlier restores; a file that cannot be read counts as one whose outcome is unknown. */
export function readRestoreMarkers(archivePath: string): { file: string; marker: RestoreMarker | null }[] {
  return readdirSync(archivePath)
    .filter((file) => MARKER.test(file))
    .sort()
    .map((file) => {
      try {
        const marker = JSON.parse(readFileSync(join(archivePath, file), 'utf8')) as RestoreMarker;
        return { file, marker: marker.kind === 'clean-restore' && marker.transaction ? marker : null };
      } catch {
        return { file, marker: null };
      }
    });
}

/** Written under a hidden name, flushed, renamed and the folder flushed: a marker exists whole or not at all. */
export function writeRestoreMarker(archivePath: string, marker: RestoreMarker): string {
  const file = `restored-${marker.transaction.id}.json`;
  const partial = join(archivePath, `.${file}.partial`);
  try {
    writeFileSync(partial, `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
    fsyncPath(partial);
    renameSync(partial, join(archivePath, file));
    fsyncPath(archivePath);
  } catch (error) {
    throw new CleanException(
      CleanExceptionCode.FolderNotWritable,
      `cannot record the restore in ${archivePath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { folder: archivePath },
    );
  }
  return file;
}

/** Only for a restore PostgreSQL reported aborted: its marker would otherwise outlive what its status can tell. */
export function removeRestoreMarker(archivePath: string, file: string): void {
  rmSync(join(archivePath, file), { force: true });
}
