import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type Sample = {
  seconds: number;
  peakRssMb?: number;
  peakConnections?: number;
  details?: Record<string, number>;
};

export type Figure = { median: number; min: number; max: number; runs: number[] };

export function figure(values: number[]): Figure {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    median: round(median),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    runs: values.map(round),
  };
}

export const round = (value: number): number => Math.round(value * 1000) / 1000;

/** Peak resident memory of a process so far (VmHWM), in MB; null once it has exited. */
function peakRss(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null once reaped.
 * On a shared machine wall time says more about the neighbours than about the tool: this does not.
 */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) "; in clock ticks (100/s).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident memory of a live process now (VmRSS), in MB; null once it has exited. */
export function currentRssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export type RunResult = {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
  peakRssMb: number;
  /** CPU time of the process itself (not of the servers it talks to). */
  cpuSeconds: number;
};

/** Runs a command to completion: wall time, output, and the peak RSS of the process itself. */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: {
    shell?: boolean;
    onStderr?: (text: string) => void;
    onSpawn?: (child: ChildProcess) => void;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], shell: options.shell });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpu = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(chunk.toString());
    });
    const sampler = setInterval(() => {
      const rss = child.pid ? peakRss(child.pid) : null;
      if (rss !== null) peak = Math.max(peak, rss);
      cpu = (child.pid ? cpuSeconds(child.pid) : null) ?? cpu;
    }, 25);
    child.once('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.once('exit', () => {
      // VmHWM is readable until the parent reaps the child; one last look.
      const rss = child.pid ? peakRss(child.pid) : null;
      if (rss !== null) peak = Math.max(peak, rss);
      cpu = (child.pid ? cpuSeconds(child.pid) : null) ?? cpu;
    });
    child.once('close', (code) => {
      clearInterval(sampler);
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        code,
        stdout,
        stderr,
        peakRssMb: round(peak),
        cpuSeconds: round(cpu),
      });
    });
  });
}

export async function checked(result: Promise<RunResult>, what: string): Promise<RunResult> {
  const outcome = await result;
  if (outcome.code !== 0)
    throw new Error(`${what} failed (exit ${outcome.code}):\n${outcome.stderr.slice(-4000)}`);
  return outcome;
}
