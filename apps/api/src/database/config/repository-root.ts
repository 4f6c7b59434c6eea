import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

/**
 * The repository root: the nearest folder above this file whose package.json declares workspaces.
 * Relative BACKUP_DIR/LOG_DIR and the .env file are resolved from it, whatever the caller's cwd.
 */
export function repositoryRoot(): string {
  if (cachedRoot) return cachedRoot;
  let folder = __dirname;
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) {
      cachedRoot = folder;
      return folder;
    }
    const parent = dirname(folder);
    if (parent === folder) {
      cachedRoot = process.cwd();
      return cachedRoot;
    }
    folder = parent;
  }
}
