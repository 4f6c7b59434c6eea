import { Injectable } from '@nestjs/common';
import { redactSecrets } from '../../common/secrets/secret';

export { formatBytes, formatDuration } from '../../common/format/format';

/**
 * The two streams of the contract: stdout carries the result (one JSON document with --json, or the
 * human report), stderr carries progress and narrative. Everything is scrubbed of secrets.
 */
@Injectable()
export class CommandOutputService {
  json = false;
  verbose = false;

  get interactive(): boolean {
    return Boolean(process.stderr.isTTY) && !process.env.CI;
  }

  /** A line of narrative on stderr. */
  info(text: string): void {
    process.stderr.write(`${redactSecrets(text)}\n`);
  }

  detail(text: string): void {
    if (this.verbose) this.info(text);
  }

  /** The human report on stdout (not used with --json). */
  report(text: string): void {
    process.stdout.write(`${redactSecrets(text)}\n`);
  }

  /** The single JSON document of --json. */
  document(value: unknown): void {
    process.stdout.write(this.serialise(value));
  }

  /** A JSON document as the CLI prints it: indented, scrubbed of secrets, one trailing newline. */
  serialise(value: unknown): string {
    return `${redactSecrets(JSON.stringify(value, null, 2))}\n`;
  }
}

export const CHECK = '✅';
export const CROSS = '❌';
export const WARN = '⚠️';
export const INFO = 'ℹ️';

/** Left-aligned text table for human reports. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? '')].length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] + cell.length - [...cell].length))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
