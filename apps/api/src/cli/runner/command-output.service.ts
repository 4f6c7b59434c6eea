import { Injectable } from '@nestjs/common';
import { redactSecrets } from '../../common/secrets/secret';

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
    process.stdout.write(`${redactSecrets(JSON.stringify(value, null, 2))}\n`);
  }
}

export const CHECK = '✅';
export const CROSS = '❌';
export const WARN = '⚠️';

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(milliseconds: number): string {
  return milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
}

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
