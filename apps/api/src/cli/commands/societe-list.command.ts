import { Command } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { SocieteRecord, SocieteRegistryService } from '../../modules/societes/societe-registry.service';
import { CommandContextFactory } from '../runner/command-context.factory';
import { table } from '../runner/command-output.service';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

export type SocieteListReport = { authDatabase: string; societes: SocieteRecord[] };

@Command({ name: 'societe:list', description: 'list the sociétés and where their databases live' })
export class SocieteListCommand extends TopsteelCommand<BaseCommandOptions, SocieteListReport> {
  protected readonly commandName = 'societe:list';

  constructor(
    contexts: CommandContextFactory,
    private readonly registry: SocieteRegistryService,
    private readonly configService: DatabaseConfigService,
  ) {
    super(contexts);
  }

  protected async execute(): Promise<CommandResult<SocieteListReport>> {
    const report = {
      authDatabase: this.configService.config.authDatabase,
      societes: await this.registry.list(),
    };
    return { exitCode: ExitCode.Success, report, text: render(report) };
  }
}

function render(report: SocieteListReport): string {
  if (report.societes.length === 0)
    return `No société in ${report.authDatabase} (run db:migrate to create the default one, or db:societe:create).`;
  return table(
    ['code', 'name', 'status', 'database', 'server', 'id', 'created'],
    report.societes.map((societe) => [
      societe.code,
      societe.nom,
      societe.status,
      societe.database,
      societe.host ? `${societe.host}:${societe.port ?? ''}` : 'default',
      societe.societeId,
      societe.createdAt,
    ]),
  );
}
