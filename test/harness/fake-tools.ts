import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TestEnvironment } from './test-environment';
import { testServer } from './test-server';

/** Where the real client tools are (the folder holding pg_dump on PATH). */
export function realToolFolder(): string {
  return execFileSync('sh', ['-c', 'dirname "$(command -v pg_dump)"']).toString().trim();
}

/**
 * A PG_BIN_DIR whose pg_dump/pg_restore are shell scripts: each one may log its argv and whether
 * PGPASSWORD is set, then either run the real tool or fail, so tests can inspect child processes
 * and inject failures without touching the machine.
 */
export function fakeToolFolder(
  root: string,
  behaviour: {
    /** `slow-exit`: the real dump, then pg_dump stays alive one more second (its output already written). */
    pg_dump?: 'real' | 'fail-after-writing' | 'slow-exit';
    pg_restore?: 'real' | 'fail-on-restore';
    logFile?: string;
    /** Run with psql right after a successful real pg_dump of that database: a write racing the tool. */
    afterDump?: { database: string; sql: string };
  },
): string {
  const folder = join(root, 'fake-bin');
  mkdirSync(folder, { recursive: true });
  const real = realToolFolder();
  const log = behaviour.logFile
    ? `printf '%s\\n' "$0 $*" >> "${behaviour.logFile}"; printf 'PGPASSWORD=%s\\n' "$PGPASSWORD" >> "${behaviour.logFile}.env"\n`
    : '';
  const afterDump = behaviour.afterDump
    ? `"${real}/pg_dump" "$@"\nrc=$?\nif [ "$rc" = 0 ] && [ "$PGDATABASE" = '${behaviour.afterDump.database}' ]; then "${real}/psql" -X -q -v ON_ERROR_STOP=1 -c '${behaviour.afterDump.sql.replace(/'/g, `'"'"'`)}' >/dev/null || exit 3; fi\nexit $rc\n`
    : null;
  const scripts: Record<string, string> = {
    pg_dump:
      behaviour.pg_dump === 'fail-after-writing'
        ? `#!/bin/sh\n${log}case "$*" in *--version*) exec "${real}/pg_dump" "$@";; esac\nprintf 'PGDMP partial'\necho "pg_dump: error: simulated failure" >&2\nexit 1\n`
        : behaviour.pg_dump === 'slow-exit'
          ? `#!/bin/sh\n${log}"${real}/pg_dump" "$@"\nrc=$?\nsleep 1\nexit $rc\n`
          : `#!/bin/sh\n${log}${afterDump ?? `exec "${real}/pg_dump" "$@"\n`}`,
    pg_restore:
      behaviour.pg_restore === 'fail-on-restore'
        ? `#!/bin/sh\n${log}case "$*" in *--dbname=*) echo "pg_restore: error: simulated failure" >&2; exit 1;; esac\nexec "${real}/pg_restore" "$@"\n`
        : `#!/bin/sh\n${log}exec "${real}/pg_restore" "$@"\n`,
  };
  for (const [tool, script] of Object.entries(scripts)) {
    writeFileSync(join(folder, tool), script);
    chmodSync(join(folder, tool), 0o755);
  }
  return folder;
}

/** pg_restore of one dump file into a new scratch database, with the real tool (independent of the CLI). */
export async function restoreInto(
  environment: TestEnvironment,
  dump: string,
  database: string,
): Promise<void> {
  await environment.query('postgres', `CREATE DATABASE "${database}"`);
  const server = testServer();
  execFileSync(join(realToolFolder(), 'pg_restore'), ['--exit-on-error', `--dbname=${database}`, dump], {
    env: {
      ...process.env,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: server.user,
      PGPASSWORD: server.password,
    },
  });
}
