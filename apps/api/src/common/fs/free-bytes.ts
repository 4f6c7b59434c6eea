import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Free bytes for this user on the file system holding `path` (or its nearest existing parent); null when unknown. */
export function freeBytes(path: string): number | null {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    const stats = statfsSync(existing);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}
