import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type ProcessResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
};

/**
 * Runs pg_dump writing straight to `file` (-f: no copy through this process, which would compete
 * with pg_dump for the CPU), then hashes the file. The environment carries the connection and the
 * password; argv never does.
 */
export async function dumpToFile(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  file: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; sha256: string; result: ProcessResult }> {
  const result = await runTool(command, [...args, `--file=${file}`], env, signal);
  if (result.code !== 0) return { bytes: 0, sha256: '', result };
  chmodSync(file, 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(createReadStream(file), counter, hash);
  return { bytes, sha256: hash.digest('hex'), result };
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
