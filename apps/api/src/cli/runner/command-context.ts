import { randomUUID } from 'node:crypto';
import { RunContext } from '../../common/run/run-context';
import { CommandOutputService, formatDuration } from './command-output.service';
import { CommandShutdownService } from './command-shutdown.service';
import { HEARTBEAT_MS, ProgressReporter } from './progress-reporter';
import { RunLogService } from './run-log.service';

/**
 * The CLI's RunContext: narrative and progress on stderr, steps in logs/migration.log, and the
 * process's SIGINT/SIGTERM as the shutdown signal.
 */
export class CliRunContext implements RunContext {
  readonly runId = randomUUID();
  readonly startedAt = new Date();
  readonly progress: ProgressReporter;

  constructor(
    readonly command: string,
    readonly output: CommandOutputService,
    private readonly runLog: RunLogService,
    readonly shutdown: CommandShutdownService,
  ) {
    this.progress = new ProgressReporter(output);
  }

  info(text: string): void {
    this.output.info(text);
  }

  detail(text: string): void {
    this.output.detail(text);
  }

  log(
    step: string,
    details: Record<string, unknown> = {},
    outcome: 'ok' | 'failed' | 'skipped' = 'ok',
  ): void {
    this.runLog.append({ runId: this.runId, command: this.command, event: 'step', step, outcome, details });
  }

  /** Runs a named step, logs its duration and outcome, and stops before it when shutdown was requested. */
  async step<T>(name: string, work: () => Promise<T>, options: { quiet?: boolean } = {}): Promise<T> {
    this.shutdown.throwIfRequested();
    const started = Date.now();
    if (!options.quiet) this.output.detail(`→ ${name}`);
    const heartbeat = this.heartbeat(name, started);
    try {
      const result = await work();
      this.runLog.append({
        runId: this.runId,
        command: this.command,
        event: 'step',
        step: name,
        durationMs: Date.now() - started,
        outcome: 'ok',
      });
      if (!options.quiet) this.output.detail(`  ${name} done in ${formatDuration(Date.now() - started)}`);
      return result;
    } catch (error) {
      this.runLog.append({
        runId: this.runId,
        command: this.command,
        event: 'step',
        step: name,
        durationMs: Date.now() - started,
        outcome: this.shutdown.requested ? 'interrupted' : 'failed',
        details: { error: error instanceof Error ? error.message : String(error) },
      });
      throw error;
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
  }

  /**
   * Off a terminal, a step that runs long (pg_dump, a verification) says it is alive every 10 s,
   * unless progress lines of its own already do.
   */
  private heartbeat(name: string, started: number): NodeJS.Timeout | undefined {
    if (this.output.interactive) return undefined;
    const timer = setInterval(() => {
      if (this.progress.activeCount === 0)
        this.output.info(`  … ${name}: still running after ${formatDuration(Date.now() - started)}`);
    }, HEARTBEAT_MS);
    timer.unref();
    return timer;
  }
}
