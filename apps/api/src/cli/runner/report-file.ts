import { accessSync, constants, chmodSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncPath } from '../../common/fs/durable-files';
import { UsageException, UsageExceptionCode } from './usage.exception';

/**
 * Version of every --json document. Bump it when a field is removed or changes meaning (adding a
 * field does not), and regenerate docs/schemas/. CI steps pin it to know what they read.
 */
export const JSON_SCHEMA_VERSION = 1;

/**
 * `--report FILE` is checked before the command does anything: a migration that ran for an hour
 * must not end on "cannot write the report".
 */
export function assertReportWritable(file: string): string {
  const path = resolve(file);
  const folder = dirname(path);
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a folder');
    accessSync(folder, constants.W_OK);
  } catch {
    throw new UsageException(
      UsageExceptionCode.InvalidOption,
      `--report ${file}: the folder ${folder} does not exist or is not writable`,
    );
  }
  return path;
}

/** Writes the report as the CLI printed it, readable by its owner only (0600), replacing it whole. */
export function writeReportFile(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  fsyncPath(temporary);
  renameSync(temporary, path);
}
