import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Backup and archive folders are named by their UTC creation time: 2025-07-14T10-22-33-123Z. */
export const timestampName = (date: Date): string => date.toISOString().replace(/:/g, '-').replace('.', '-');

/** The sha256 of a file on disk, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Flushes a file, or a folder's entries, to disk. A backup or archive only counts once this returned:
 * after a power cut a renamed folder must not point at files that were never written.
 */
export function fsyncPath(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** A pass-through stream that hashes and counts what flows through it, so a file is never read twice. */
export function hashingTap(): { stream: Transform; result: () => { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), bytes }) };
}
