import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { describeHolder, MigrationLockService } from '../../modules/database/migration-lock.service';
import { SocieteMoveService } from '../../scripts/migration/move/societe-move.service';
import { MoveReport } from '../../scripts/migration/move/move.types';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';
import { lockTimeoutOf, SharedOptions } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

type SocieteMoveOptions = BaseCommandOptions & { lockTimeout?: number; jobs?: number; to?: string };

const DEFAULT_MOVE_JOBS = 2;

@SharedOptions(['lockTimeout', 'jobs'])
@Command({
  name: 'societe:move',
  arguments: '<code>',
  argsDescription: { code: 'code (or id) of the société to move' },
  description:
    "move a société's database to another declared server: copy, verify, switch the registry, dump and drop the old one",
})
export class SocieteMoveCommand extends TopsteelCommand<SocieteMoveOptions, MoveReport> {
  protected readonly commandName = 'societe:move';

  constructor(
    contexts: CommandContextFactory,
    private readonly moves: SocieteMoveService,
    private readonly lock: MigrationLockService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--to <server>',
    description: 'server declared in TENANT_SERVERS (or default) to move to',
  })
  parseTo(value: string): string {
    return value;
  }

  protected async execute(
    parameters: string[],
    options: SocieteMoveOptions,
    run: CliRunContext,
  ): Promise<CommandResult<MoveReport>> {
    const [code] = parameters;
    if (!options.to)
      throw new UsageException(
        UsageExceptionCode.InvalidOption,
        '--to <server> is required: the server to move the société to',
      );
    const to = options.to;
    // Unknown société, unknown or same server: exit 2 before the lock and before any change.
    await this.moves.validate(code, to);
    const report = await this.lock.withMigrationLock(
      this.commandName,
      {
        timeoutMs: lockTimeoutOf(options),
        onWait: (holder) => run.info(`waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      (lock) => this.moves.move({ societe: code, to, jobs: options.jobs ?? DEFAULT_MOVE_JOBS, lock, run }),
    );
    return { exitCode: ExitCode.Success, report, text: render(report) };
  }
}

function render(report: MoveReport): string {
  if (report.outcome === 'undone') {
    return `The interrupted move of société ${report.societe} was undone: it stays on server ${report.from}.`;
  }
  const lines = [
    report.outcome === 'finished'
      ? `Finished the interrupted move of société ${report.societe} to server ${report.to}.`
      : `Société ${report.societe} moved from server ${report.from} to server ${report.to}.`,
  ];
  if (report.outcome === 'moved') {
    lines.push(
      `  copied:      ${report.rows} rows in ${report.tables.length} tables (${(report.bytes / 1048576).toFixed(1)} MB), counts and checksums equal`,
    );
  }
  if (report.unavailableMs !== null) lines.push(`  unavailable: ${report.unavailableMs} ms`);
  if (report.dump) lines.push(`  old database dumped to ${report.dump.path}, then dropped`);
  return lines.join('\n');
}
