import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/** The OS account PostgreSQL runs as when started by root (it refuses to run as root). */
export type PostgresAccount = { name: string; uid: number; gids: number[] };

export function postgresAccount(): PostgresAccount | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  if (!line) return undefined;
  const [name, , uid, gid] = line.split(':');
  // Supplementary groups count too: a folder open to a group postgres belongs to is reachable.
  const groups = existsSync('/etc/group') ? readFileSync('/etc/group', 'utf8').split('\n') : [];
  const supplementary = groups
    .map((entry) => entry.split(':'))
    .filter((fields) => fields[3]?.split(',').includes(name))
    .map((fields) => Number(fields[2]));
  return { name, uid: Number(uid), gids: [Number(gid), ...supplementary] };
}

/** Whether `account` has the permission bit `bit` (1 = x, 2 = w, 4 = r) on `path`, by its mode bits. */
function allowed(path: string, account: PostgresAccount, bit: number): boolean {
  const stat = statSync(path);
  if (stat.uid === account.uid) return (stat.mode & (bit << 6)) !== 0;
  if (account.gids.includes(stat.gid)) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}

const describeMode = (path: string): string => {
  const stat = statSync(path);
  return `mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${stat.uid}`;
};

/**
 * Why `account` cannot run `executables` or enter the folders above `dataDirectory`, as one phrase
 * naming the folder or file in the way; undefined when nothing is. Mode bits only: an ACL granting
 * more is not seen (the server's own error would then be the judge).
 */
export function unreachableFor(
  account: PostgresAccount,
  executables: string[],
  dataDirectory: string,
): string | undefined {
  const folders = (path: string): string[] => {
    const chain: string[] = [];
    for (let folder = resolve(path); ; folder = dirname(folder)) {
      chain.unshift(folder);
      if (folder === dirname(folder)) return chain;
    }
  };
  for (const executable of executables) {
    for (const folder of folders(dirname(executable))) {
      if (existsSync(folder) && !allowed(folder, account, 1))
        return `cannot enter ${folder} (${describeMode(folder)}), above its binaries in ${dirname(executable)}`;
    }
    if (!existsSync(executable)) return `finds no ${executable}`;
    if (!allowed(executable, account, 5)) return `cannot run ${executable} (${describeMode(executable)})`;
  }
  // The data folder itself is handed to the account; every folder above it must let it through.
  for (const folder of folders(dirname(resolve(dataDirectory)))) {
    if (folder !== sep && existsSync(folder) && !allowed(folder, account, 1))
      return `cannot enter ${folder} (${describeMode(folder)}), above its data folder ${dataDirectory}`;
  }
  return undefined;
}
