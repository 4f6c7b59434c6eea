import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncPath, timestampName } from '../../../common/fs/durable-files';
import { BackupException, BackupExceptionCode } from './backup.exception';
import { BackupDatabaseEntry, BackupManifest, MANIFEST_FILE } from './backup-manifest';

export type WrittenBackup = { name: string; path: string; manifest: BackupManifest };

/**
 * Folder handling shared by every backup: written under a hidden `.<name>.partial` folder (0700),
 * fsynced and renamed when complete, removed on failure, so nothing half-written ever looks like
 * a backup. `produce` writes the archives into the folder it is given and describes them.
 */
export async function writeBackupFolder(
  parent: string,
  header: Pick<BackupManifest, 'kind' | 'runId'>,
  produce: (folder: string) => Promise<BackupDatabaseEntry[]>,
): Promise<WrittenBackup> {
  const createdAt = new Date();
  const name = timestampName(createdAt);
  const partial = join(parent, `.${name}.partial`);
  const final = join(parent, name);
  createPartialFolder(parent, partial);
  try {
    const databases = await produce(partial);
    const manifest: BackupManifest = {
      formatVersion: 1,
      tool: 'topsteel-migration',
      kind: header.kind,
      createdAt: createdAt.toISOString(),
      runId: header.runId,
      databases,
    };
    writeFileSync(join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // On disk before it counts as a backup: a rollback drops databases right after trusting it.
    for (const file of [...databases.map((entry) => entry.file), MANIFEST_FILE])
      fsyncPath(join(partial, file));
    fsyncPath(partial);
    renameSync(partial, final);
    fsyncPath(parent);
    return { name, path: final, manifest };
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new BackupException(
        BackupExceptionCode.DiskFull,
        `no space left on the device holding ${parent}`,
        {},
        { cause: error },
      );
    }
    throw error;
  }
}

function createPartialFolder(parent: string, partial: string): void {
  try {
    // mkdir's mode applies to the folders it creates; BACKUP_DIR itself may be shared, so only our sub-folder is tightened.
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    chmodSync(parent, 0o700);
    mkdirSync(partial, { mode: 0o700 });
  } catch (error) {
    throw new BackupException(
      BackupExceptionCode.FolderNotWritable,
      `cannot create ${partial}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { folder: parent },
    );
  }
}
