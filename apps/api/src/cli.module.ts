import { Module } from '@nestjs/common';
import { SocieteCreateCommand } from './cli/commands/societe-create.command';
import { SocieteListCommand } from './cli/commands/societe-list.command';
import { StatusCommand } from './cli/commands/status.command';
import { CliRunnerModule } from './cli/runner/cli-runner.module';
import { DatabaseMultiTenantModule } from './modules/database/database-multi-tenant.module';
import { SocietesModule } from './modules/societes/societes.module';
import { MigrationScriptsModule } from './scripts/migration/migration-scripts.module';

const COMMANDS = [StatusCommand, SocieteCreateCommand, SocieteListCommand];

/** The CLI: the shared data layer, the migration services, and one thin command per guide script. */
@Module({
  imports: [DatabaseMultiTenantModule, CliRunnerModule, SocietesModule, MigrationScriptsModule],
  providers: COMMANDS,
})
export class CliModule {}
