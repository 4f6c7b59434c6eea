import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { hashingTap } from '../../../common/fs/durable-files';

export type ProcessResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
};

/**
 * Runs pg_dump with its output streamed into `file` (created 0600) through a sha256 tap, so the
 * hash is ready when the dump is, without reading the file again. The environment carries the
 * connection and the password; argv never does.
 */
export async function dumpToFile(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  file: string,
  signal?: AbortSignal,
  onBytes?: (written: number) => void,
): Promise<{ bytes: number; sha256: string; result: ProcessResult }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
  // Bytes so far, for the progress line: a dump of a big database otherwise looks like a hang.
  let received = 0;
  if (onBytes) child.stdout.on('data', (chunk: Buffer) => onBytes((received += chunk.length)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const tap = hashingTap();
  const exited = new Promise<ProcessResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, closeSignal) => resolve({ code, signal: closeSignal, stderr, stdout: '' }));
  });
  const written = pipeline(child.stdout, tap.stream, createWriteStream(file, { mode: 0o600 }));
  const [result, write] = await Promise.allSettled([exited, written]);
  if (write.status === 'rejected') {
    // The file could not be written (full disk, removed folder): stop pg_dump rather than let it run on.
    child.kill('SIGTERM');
    throw write.reason;
  }
  if (result.status === 'rejected') throw result.reason;
  return { ...tap.result(), result: result.value };
}

/** Runs a client tool to completion, collecting its output. */
export function runTool(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, closeSignal) => resolve({ code, signal: closeSignal, stdout, stderr }));
  });
}
