import { Command, Option } from 'nest-commander';
import { createInterface } from 'node:readline/promises';
import { ExitCode } from '../../common/exceptions/exit-code';
import {
  nothingToDoMessage,
  RollbackMigrationService,
  RollbackReport,
  RollbackValidation,
} from '../../scripts/migration/rollback-migration';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { CHECK, CROSS } from '../runner/command-output.service';
import { lockTimeoutOf, SharedOptions } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';
import { renderChecks } from './render-checks';

type RollbackOptions = BaseCommandOptions & {
  validate?: boolean;
  yes?: boolean;
  acceptDataLoss?: boolean;
  backup?: string;
  lockTimeout?: number;
};
export type RollbackCommandReport = { validation: RollbackValidation; rollback?: RollbackReport };

@SharedOptions(['lockTimeout'])
@Command({
  name: 'rollback',
  description:
    'emergency rollback: restore the monolith if it changed (into a new database, verified, swapped in), then dump and drop the databases the tool created',
})
export class RollbackCommand extends TopsteelCommand<RollbackOptions, RollbackCommandReport> {
  protected readonly commandName = 'rollback';

  constructor(
    contexts: CommandContextFactory,
    private readonly rollbacks: RollbackMigrationService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--validate',
    description: 'check the conditions for a safe rollback and change nothing (exit 0 when safe)',
  })
  parseValidate(): boolean {
    return true;
  }

  @Option({
    flags: '-y, --yes',
    description: 'do not ask for confirmation (scripts); read the validation first',
  })
  parseYes(): boolean {
    return true;
  }

  @Option({
    flags: '--accept-data-loss',
    description: 'proceed although data written after the split will only survive in the pre-drop dump',
  })
  parseAcceptDataLoss(): boolean {
    return true;
  }

  @Option({
    flags: '--backup <name>',
    description: 'restore from this backup folder (default: the one the split used)',
  })
  parseBackup(value: string): string {
    return value;
  }

  protected async execute(
    _parameters: string[],
    options: RollbackOptions,
    run: CliRunContext,
  ): Promise<CommandResult<RollbackCommandReport>> {
    const settings = { acceptDataLoss: options.acceptDataLoss, backupName: options.backup };
    if (options.validate) {
      const validation = await this.rollbacks.validate(settings);
      return {
        exitCode: validation.ok ? ExitCode.Success : ExitCode.Failure,
        report: { validation },
        text: renderValidation(validation),
      };
    }
    let shown: RollbackValidation | undefined;
    const rollback = await this.rollbacks.rollback(
      {
        ...settings,
        lockTimeoutMs: lockTimeoutOf(options),
        confirm: async (validation) => {
          shown = validation;
          run.info(renderValidation(validation));
          if (options.yes) return true;
          if (!process.stdin.isTTY) {
            throw new UsageException(
              UsageExceptionCode.ConfirmationRequired,
              'db:rollback needs a confirmation: no terminal to ask on and no --yes',
            );
          }
          const prompt = createInterface({ input: process.stdin, output: process.stderr });
          try {
            const answer = await prompt.question('\nType "rollback" to proceed: ');
            return answer.trim() === 'rollback';
          } finally {
            prompt.close();
          }
        },
      },
      run,
    );
    const validation = shown ?? (await this.rollbacks.validate(settings));
    const text = rollback.nothingToDo
      ? `${CHECK} ${rollback.nextSteps.join('\n')}`
      : [
          `${CHECK} Rollback complete.`,
          rollback.dropped.length > 0 ? `Dropped: ${rollback.dropped.join(', ')}` : 'Nothing dropped.',
          rollback.reverseSync
            ? `Monolith brought level by the reverse sync and verified (${rollback.reverseSync.tablesVerified} tables); writes paused ${rollback.pauseMs} ms.`
            : rollback.restored
              ? `Monolith restored from ${rollback.backup} and verified.`
              : 'The monolith matched its backup: not restored.',
          '',
          'Next steps:',
          ...rollback.nextSteps.map((step) => `  - ${step}`),
        ].join('\n');
    return { exitCode: ExitCode.Success, report: { validation, rollback }, text };
  }
}

function renderValidation(validation: RollbackValidation): string {
  const lines = [
    `Rollback validation${validation.inProgress ? ' (a rollback is in progress: a rerun finishes it)' : ''}`,
    ...renderChecks(validation.checks),
  ];
  if (validation.nothingToDo) lines.push('', nothingToDoMessage(validation));
  else {
    lines.push('', 'Plan:');
    // In the order the rollback runs: the monolith is back in place before anything is dropped.
    lines.push(
      `  1. restore the monolith: ${validation.restore.needed ? `yes, from ${validation.backup?.path}, into a new database, verified, then swapped in` : 'no (it matches its backup)'}`,
    );
    lines.push(
      `  2. drop (after a verified dump): ${validation.drop.map((database) => database.name).join(', ') || 'nothing'}`,
    );
  }
  lines.push('', validation.ok ? `${CHECK} safe to roll back` : `${CROSS} not safe: fix each ❌ first`);
  return lines.join('\n');
}
