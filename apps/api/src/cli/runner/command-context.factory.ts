import { Injectable } from '@nestjs/common';
import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ConnectionRetry,
  PostgresConnectionFactory,
} from '../../modules/database/postgres-connection.factory';
import { CliRunContext } from './command-context';
import { CommandOutputService } from './command-output.service';
import { CommandShutdownService } from './command-shutdown.service';
import { RunLogService } from './run-log.service';

/** Opens and closes runs: one start line and one end line in the log per command. */
@Injectable()
export class CommandContextFactory {
  constructor(
    private readonly output: CommandOutputService,
    private readonly runLog: RunLogService,
    private readonly shutdown: CommandShutdownService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  /** Connects of this run that were turned away for a moment and tried again (the report lists them). */
  connectionRetries(): ConnectionRetry[] {
    return this.connections.retries;
  }

  open(command: string, options: { json?: boolean; verbose?: boolean }): CliRunContext {
    this.output.json = Boolean(options.json);
    this.output.verbose = Boolean(options.verbose);
    const run = new CliRunContext(command, this.output, this.runLog, this.shutdown);
    this.connections.onRetry = (retry, delayMs) => {
      this.output.info(
        `⚠️ ${retry.target} turned the connection away (${retry.reasons.at(-1)}); retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${retry.attempts + 1})`,
      );
      run.log('connection retry', { ...retry });
    };
    const flags = Object.fromEntries(
      Object.entries(options).filter(([, value]) => typeof value !== 'function'),
    );
    this.runLog.append({ runId: run.runId, command, event: 'start', details: { flags } });
    return run;
  }

  close(run: CliRunContext, exitCode: ExitCode, error?: Record<string, unknown>): void {
    const outcome = exitCode === ExitCode.Success ? 'ok' : run.shutdown.requested ? 'interrupted' : 'failed';
    this.runLog.append({
      runId: run.runId,
      command: run.command,
      event: 'end',
      durationMs: Date.now() - run.startedAt.getTime(),
      outcome,
      exitCode,
      details:
        error || this.connections.retries.length > 0
          ? {
              error,
              connectionRetries: this.connections.retries.length > 0 ? this.connections.retries : undefined,
            }
          : undefined,
    });
  }
}
