import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { Check } from '../../../common/run/check';

const run = promisify(execFile);

export type PgTool = 'pg_dump' | 'pg_restore';

export type PgToolVersion = { tool: PgTool; path: string; version: string; major: number };

/** Locates pg_dump/pg_restore (PG_BIN_DIR, else PATH) and reads their versions. */
@Injectable()
export class PgToolsService {
  private readonly versions = new Map<string, Promise<PgToolVersion | null>>();

  constructor(private readonly configService: DatabaseConfigService) {}

  path(tool: PgTool): string {
    const folder = this.configService.config.pgBinDir;
    return folder ? join(folder, tool) : tool;
  }

  /** The checklist lines shared by dry-run and rollback --validate: both tools there, none older than the server. */
  async checks(serverMajorVersion: number): Promise<Check[]> {
    const checks: Check[] = [];
    for (const tool of ['pg_dump', 'pg_restore'] as const) {
      const version = await this.version(tool);
      checks.push({
        id: tool,
        label: `${tool} present and not older than the server`,
        ok: version !== null && version.major >= serverMajorVersion,
        detail:
          version === null
            ? `${this.path(tool)} not found: install the PostgreSQL ${serverMajorVersion} client tools or set PG_BIN_DIR`
            : `${version.path} ${version.version}${version.major < serverMajorVersion ? ` is older than the server (${serverMajorVersion})` : ''}`,
      });
    }
    return checks;
  }

  /**
   * The tool's version, or null when it cannot be run. Read once per process and path: the binaries
   * do not change during a run, and each `--version` costs a process spawn (about 30 ms), which a
   * backup would otherwise pay again for every archive it checks.
   */
  version(tool: PgTool): Promise<PgToolVersion | null> {
    const path = this.path(tool);
    let version = this.versions.get(path);
    if (!version) {
      version = this.readVersion(tool, path);
      this.versions.set(path, version);
    }
    return version;
  }

  private async readVersion(tool: PgTool, path: string): Promise<PgToolVersion | null> {
    try {
      const { stdout } = await run(path, ['--version'], { timeout: 10000 });
      const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout);
      if (!match) return null;
      return {
        tool,
        path,
        version: match[2] ? `${match[1]}.${match[2]}` : match[1],
        major: Number(match[1]),
      };
    } catch {
      return null;
    }
  }
}

/** "15.20 (Debian ...)" or server_version_num 150020 -> 15. */
export function serverMajor(serverVersionNumber: number): number {
  return Math.floor(serverVersionNumber / 10000);
}
