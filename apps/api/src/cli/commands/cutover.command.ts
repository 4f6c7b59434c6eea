import { Command } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import {
  CutoverRequestReport,
  CutoverRequestService,
} from '../../scripts/migration/online/cutover-request.service';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

@Command({
  name: 'cutover',
  description:
    'asks a running db:migrate -- --online --cutover manual to cut over; exits 0 when done, 1 if aborted',
})
export class CutoverCommand extends TopsteelCommand<BaseCommandOptions, CutoverRequestReport> {
  protected readonly commandName = 'cutover';

  constructor(
    contexts: CommandContextFactory,
    private readonly cutover: CutoverRequestService,
  ) {
    super(contexts);
  }

  protected async execute(
    _parameters: string[],
    _options: BaseCommandOptions,
    run: CliRunContext,
  ): Promise<CommandResult<CutoverRequestReport>> {
    const report = await this.cutover.request(run);
    return report.outcome === 'done'
      ? {
          exitCode: ExitCode.Success,
          report,
          text: `${CHECK} Cutover done: writes paused ${report.pauseMs ?? '?'} ms (attempt ${report.attempts}).`,
        }
      : {
          exitCode: ExitCode.Failure,
          report,
          text: `${CROSS} Cutover aborted (the pause would have passed --max-pause-ms); the online split keeps following. Run npm run db:cutover again to retry.`,
        };
  }
}
