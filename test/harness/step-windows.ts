import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** When a step of a run started and ended, in milliseconds since the epoch (from its log line). */
export type StepWindow = { start: number; end: number };

/**
 * The steps of the first run of `command` in LOG_DIR's migration.log, by name (the last of each
 * name): the log line is written when a step ends, with its duration.
 */
export function stepWindows(logDir: string, command: string): Map<string, StepWindow> {
  const lines = readFileSync(join(logDir, 'migration.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as {
          time: string;
          command: string;
          event: string;
          runId: string;
          step?: string;
          durationMs?: number;
        },
    );
  const starts = lines.filter((line) => line.command === command && line.event === 'start');
  const runId = starts[0]?.runId;
  const windows = new Map<string, StepWindow>();
  for (const line of lines) {
    if (line.runId !== runId || line.event !== 'step' || !line.step || line.durationMs === undefined)
      continue;
    const end = Date.parse(line.time);
    windows.set(line.step, { start: end - line.durationMs, end });
  }
  return windows;
}
