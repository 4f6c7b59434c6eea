import { LoggerService } from '@nestjs/common';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../../common/secrets/secret';

/** One line per HTTP request. Never a header, a body or a query string: they can carry tokens and passwords. */
export type RequestLogEntry = {
  requestId: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  userId?: string;
  /** The granted société's code, or what a refused request asked for. */
  societe?: string;
  error?: string;
  aborted?: boolean;
};

type Level = 'info' | 'warn' | 'error';

/**
 * JSON lines in LOG_DIR/application.log: the request log and Nest's own messages. Lines are written
 * synchronously through one open descriptor (a few microseconds each) so that nothing is lost when
 * the process is killed; errors are echoed on stderr too. A log that cannot be written warns once
 * and never breaks a request.
 */
export class ApplicationLogService implements LoggerService {
  #descriptor?: number;
  #warned = false;

  constructor(private readonly logDir: string) {}

  get path(): string {
    return join(this.logDir, 'application.log');
  }

  request(entry: RequestLogEntry): void {
    this.write({ level: 'info', event: 'request', ...entry });
  }

  event(event: string, details: Record<string, unknown> = {}, level: Level = 'info'): void {
    this.write({ level, event, ...details });
  }

  log(message: unknown, ...optional: unknown[]): void {
    this.message('info', message, optional);
  }

  warn(message: unknown, ...optional: unknown[]): void {
    this.message('warn', message, optional);
  }

  error(message: unknown, ...optional: unknown[]): void {
    this.message('error', message, optional);
  }

  /** Closes the file so that the next line opens it again, under its name: log rotation moved it. */
  reopen(): void {
    this.close();
    this.event('log reopened');
  }

  close(): void {
    if (this.#descriptor !== undefined) closeSync(this.#descriptor);
    this.#descriptor = undefined;
  }

  private message(level: Level, message: unknown, optional: unknown[]): void {
    const context = typeof optional.at(-1) === 'string' ? (optional.at(-1) as string) : undefined;
    const text = message instanceof Error ? message.message : String(message);
    this.write({ level, event: 'message', context, message: text });
    if (level === 'error') process.stderr.write(`${redactSecrets(text)}\n`);
  }

  private write(fields: Record<string, unknown>): void {
    const line = redactSecrets(
      JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...fields }),
    );
    try {
      if (this.#descriptor === undefined) {
        mkdirSync(this.logDir, { recursive: true });
        this.#descriptor = openSync(this.path, 'a', 0o600);
      }
      writeSync(this.#descriptor, `${line}\n`);
    } catch (error) {
      if (!this.#warned) {
        this.#warned = true;
        process.stderr.write(`warning: cannot write ${this.path}: ${(error as Error).message}\n`);
      }
    }
  }
}
