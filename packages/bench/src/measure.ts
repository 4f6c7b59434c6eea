import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Resident memory of a live process now (VmRSS), in MB; null once it has exited. */
export function currentRssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's CPU fields (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** Parent of every live process, from /proc/<pid>/stat (the field after the command's closing parenthesis). */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return parentOf;
}

/** Resident memory of a process and all its descendants now (pg_dump, pg_restore…), in MB. */
function treeRssMb(pid: number): number {
  const parentOf = parents();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parentOf)
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
  }
  let total = 0;
  for (const member of tree) total += currentRssMb(member) ?? 0;
  return total;
}

/** CPU seconds of a process and of the children it has waited for (utime+stime+cutime+cstime). */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14-17 of stat(5), counted from the state (field 3) at index 0.
    return fields.slice(11, 15).reduce((total, ticks) => total + Number(ticks), 0) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export type RunResult = {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident memory of the process itself (VmHWM). */
  peakRssMb: number;
  /** Highest sampled sum of the resident memory of the process and its children (every 100 ms). */
  peakTreeRssMb: number;
  /** CPU time of the process and its children, as last sampled (at most 25 ms before it exited). */
  cpuSeconds: number;
};

/** Runs a command to completion: wall time, CPU time, output, and the peak RSS of the process (and its children). */
export function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  /** tree: also sample the resident memory of the children (walks /proc, so only where it is measured). */
  options: {
    shell?: boolean;
    tree?: boolean;
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
    let treePeak = 0;
    let cpu = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(chunk.toString());
    });
    const sample = (withTree: boolean) => {
      if (!child.pid) return;
      const rss = peakRss(child.pid);
      if (rss !== null) peak = Math.max(peak, rss);
      cpu = cpuSeconds(child.pid) ?? cpu;
      if (withTree) treePeak = Math.max(treePeak, treeRssMb(child.pid));
    };
    // The tree walks all of /proc: every fourth tick is enough for memory that builds up over seconds.
    let tick = 0;
    const sampler = setInterval(() => sample((options.tree ?? false) && tick++ % 4 === 0), 25);
    child.once('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.once('exit', () => {
      // VmHWM is readable until the parent reaps the child; one last look.
      sample(false);
    });
    child.once('close', (code) => {
      clearInterval(sampler);
      resolve({
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        code,
        stdout,
        stderr,
        peakRssMb: round(peak),
        peakTreeRssMb: round(Math.max(treePeak, peak)),
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
