import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const REPOSITORY_ROOT = join(__dirname, '..', '..');
export const CLI_ENTRY = join(REPOSITORY_ROOT, 'apps', 'api', 'dist', 'cli.js');

export type CliResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};

/** Waits for a spawned run and collects its output. */
export function collectRun(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** Runs an npm script of the root package.json, as a user would (`npm run db:migrate -- --json`). */
export function runNpmScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return collectRun(spawnNpmScript(script, args, env));
}

export function spawnNpmScript(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('npm', ['run', '--silent', script, '--', ...args], {
    cwd: REPOSITORY_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the compiled CLI directly (faster; for tests that are not about the npm scripts). */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return collectRun(spawnCli(args, env));
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI_ENTRY, ...args], {
    cwd: REPOSITORY_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Parses the single JSON document a --json run prints, failing with the run's output when it is not one. */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}).\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  }
}
