import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { formatDuration } from '../../common/format/format';
import { DemoReport, DemoService } from '../../demo/demo.service';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';

type DemoOptions = BaseCommandOptions & { dir?: string; scale?: number; clean?: boolean; serve?: boolean };
export type DemoCommandReport = { demo?: DemoReport; removed?: string[] };

@Command({
  name: 'demo',
  description:
    'the whole migration guide on a generated monolith, on an embedded PostgreSQL when .env names no reachable server',
})
export class DemoCommand extends TopsteelCommand<DemoOptions, DemoCommandReport> {
  protected readonly commandName = 'demo';

  constructor(
    contexts: CommandContextFactory,
    private readonly demo: DemoService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--dir <path>',
    description: 'the demo folder (embedded server data, backups, logs); default .demo',
  })
  parseDir(value: string): string {
    return value;
  }

  @Option({
    flags: '--scale <n>',
    description: 'size of the generated monolith (1 = 1,000 commandes; 1000 = 1,000,000)',
  })
  parseScale(value: string): number {
    const scale = Number(value);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 10000) {
      throw new UsageException(UsageExceptionCode.InvalidOption, '--scale must be a number in (0, 10000]');
    }
    return scale;
  }

  @Option({ flags: '--clean', description: "remove the demo's databases and folder" })
  parseClean(): boolean {
    return true;
  }

  @Option({
    flags: '--serve',
    description: "start the demo's embedded server again and wait (Ctrl-C stops it)",
  })
  parseServe(): boolean {
    return true;
  }

  protected async execute(
    _parameters: string[],
    options: DemoOptions,
    run: CliRunContext,
  ): Promise<CommandResult<DemoCommandReport>> {
    if (options.clean) {
      const removed = await this.demo.clean(options.dir, run);
      return {
        exitCode: ExitCode.Success,
        report: { removed },
        text: removed.length
          ? `Removed:\n${removed.map((item) => `  ${item}`).join('\n')}`
          : 'Nothing to remove.',
      };
    }
    if (options.serve) {
      await this.demo.serve(options.dir, run);
      return { exitCode: ExitCode.Success, report: {}, text: 'Demo server stopped.' };
    }
    const demo = await this.demo.run({ directory: options.dir, scale: options.scale ?? 1, run });
    const total = demo.steps.reduce((sum, step) => sum + step.durationMs, 0);
    const text = [
      '',
      demo.ok
        ? `${CHECK} The migration guide ran end to end in ${formatDuration(total)}.`
        : `${CROSS} The demo stopped at "${demo.steps[demo.steps.length - 1]?.name}".`,
      ...demo.steps.map(
        (step) => `  ${step.exitCode === 0 ? CHECK : CROSS} ${step.name.padEnd(38)} ${step.command}`,
      ),
      '',
      `Backups:      ${demo.locations.backups}`,
      `Logs:         ${demo.locations.logs}/migration.log`,
      ...(demo.locations.auditReport ? [`Audit report: ${demo.locations.auditReport}`] : []),
      '',
      'Connect:',
      ...demo.connect.map((hint) => `  ${hint}`),
      '',
      'Again: npm run demo (idempotent) · remove everything: npm run demo -- --clean',
    ].join('\n');
    return { exitCode: demo.ok ? ExitCode.Success : ExitCode.Failure, report: { demo }, text };
  }
}
