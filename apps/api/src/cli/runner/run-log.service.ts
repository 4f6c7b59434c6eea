import { Injectable } from '@nestjs/common';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redactedJson } from '../../common/secrets/secret';
import { repositoryRoot } from '../../database/config/repository-root';
import { DatabaseConfigService } from '../../modules/database/database-config.service';

export type RunLogEntry = {
  runId: string;
  command: string;
  event: 'start' | 'step' | 'end';
  step?: string;
  durationMs?: number;
  outcome?: 'ok' | 'failed' | 'interrupted' | 'skipped';
  exitCode?: number;
  details?: Record<string, unknown>;
};

/**
 * Appends JSON lines to LOG_DIR/migration.log, synchronously so that a line is on disk before the
 * next step starts (a kill -9 loses nothing already logged). A log that cannot be written warns
 * once and never fails the command.
 */
@Injectable()
export class RunLogService {
  #warned = false;

  constructor(private readonly configService: DatabaseConfigService) {}

  private logDirectory(): string {
    try {
      return this.configService.config.logDir;
    } catch {
      // The configuration is invalid; the failure itself is still worth a line in the default folder.
      return join(repositoryRoot(), 'logs');
    }
  }

  append(entry: RunLogEntry): void {
    const directory = this.logDirectory();
    const line = redactedJson({ time: new Date().toISOString(), pid: process.pid, ...entry });
    try {
      mkdirSync(directory, { recursive: true });
      appendFileSync(join(directory, 'migration.log'), `${line}\n`, { mode: 0o600 });
    } catch (error) {
      if (!this.#warned) {
        this.#warned = true;
        process.stderr.write(
          `warning: cannot write ${join(directory, 'migration.log')}: ${(error as Error).message}\n`,
        );
      }
    }
  }
}
