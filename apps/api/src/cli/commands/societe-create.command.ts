import { Command, Option } from 'nest-commander';
import { ExitCode } from '../../common/exceptions/exit-code';
import { describeHolder, MigrationLockService } from '../../modules/database/migration-lock.service';
import {
  EnsureSocieteResult,
  SocieteProvisioningService,
} from '../../modules/societes/societe-provisioning.service';
import { CliRunContext } from '../runner/command-context';
import { CommandContextFactory } from '../runner/command-context.factory';
import { parsePositiveInteger } from '../runner/option-parsers';
import { lockTimeoutOf, SharedOptions } from '../runner/shared-options';
import { BaseCommandOptions, CommandResult, TopsteelCommand } from '../runner/topsteel-command';

type SocieteCreateOptions = BaseCommandOptions & {
  lockTimeout?: number;
  host?: string;
  port?: number;
  server?: string;
};

@SharedOptions(['lockTimeout'])
@Command({
  name: 'societe:create',
  arguments: '<code> <name...>',
  argsDescription: {
    code: 'société code (letters, digits, underscores); its database is <DB_TENANT_PREFIX>_<code>',
    name: 'display name (several words allowed)',
  },
  description: 'provision a société: tenant database, tenant migrations, société row and default site',
})
export class SocieteCreateCommand extends TopsteelCommand<SocieteCreateOptions, EnsureSocieteResult> {
  protected readonly commandName = 'societe:create';

  constructor(
    contexts: CommandContextFactory,
    private readonly provisioning: SocieteProvisioningService,
    private readonly lock: MigrationLockService,
  ) {
    super(contexts);
  }

  @Option({
    flags: '--server <name>',
    description: 'server declared in TENANT_SERVERS that holds the tenant database (default)',
  })
  parseServer(value: string): string {
    return value;
  }

  @Option({ flags: '--host <host>', description: 'PostgreSQL server of the tenant database (DB_HOST)' })
  parseHost(value: string): string {
    return value;
  }

  @Option({ flags: '--port <port>', description: 'port of that server (DB_PORT)' })
  parsePort(value: string): number {
    return parsePositiveInteger(value, '--port', 65535);
  }

  protected async execute(
    parameters: string[],
    options: SocieteCreateOptions,
    run: CliRunContext,
  ): Promise<CommandResult<EnsureSocieteResult>> {
    const [code, ...words] = parameters;
    const input = {
      code,
      nom: words.join(' '),
      host: options.host,
      port: options.port,
      server: options.server,
    };
    // Usage errors (unsafe code, bad name) exit 2 before any connection or lock.
    this.provisioning.validate(input);
    const result = await this.lock.withMigrationLock(
      this.commandName,
      {
        timeoutMs: lockTimeoutOf(options),
        onWait: (holder) => run.info(`waiting for the migration lock held by ${describeHolder(holder)}…`),
      },
      (lock) =>
        this.provisioning.ensureSociete(input, {
          runId: run.runId,
          lock,
          onStep: (step) => {
            run.output.detail(`→ ${step}`);
            run.log(step);
          },
        }),
    );
    return { exitCode: ExitCode.Success, report: result, text: render(result) };
  }
}

function render(result: EnsureSocieteResult): string {
  const societe = result.societe;
  const where = societe.server
    ? ` on server ${societe.server}`
    : societe.host
      ? ` on ${societe.host}:${societe.port ?? 'default port'}`
      : '';
  if (!result.created) {
    const repaired = [
      result.migrationsApplied.length > 0
        ? `applied ${result.migrationsApplied.length} pending migration(s)`
        : '',
      result.defaultSiteCreated ? 'added the missing default site' : '',
    ].filter(Boolean);
    return `Société ${societe.code} (${societe.nom}) already exists, database ${societe.database}${where}: ${
      repaired.length > 0 ? repaired.join(', ') : 'nothing to do'
    }.`;
  }
  return [
    `Société ${societe.code} (${societe.nom}) created.`,
    `  id:         ${societe.societeId}`,
    `  database:   ${societe.database}${where}${result.databaseCreated ? '' : ' (existing database of an interrupted run)'}`,
    `  migrations: ${result.migrationsApplied.join(', ') || 'none pending'}`,
    `  site:       ${result.defaultSiteCreated ? 'default site PRINCIPAL created' : 'default site already present'}`,
  ].join('\n');
}
