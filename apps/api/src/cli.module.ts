import { Module } from '@nestjs/common';
import { AuditCommand } from './cli/commands/audit.command';
import { BackupCommand } from './cli/commands/backup.command';
import { DemoCommand } from './cli/commands/demo.command';
import { CleanCommand } from './cli/commands/clean.command';
import { DryRunCommand } from './cli/commands/dry-run.command';
import { MigrateCommand } from './cli/commands/migrate.command';
import { RollbackCommand } from './cli/commands/rollback.command';
import { SocieteCreateCommand } from './cli/commands/societe-create.command';
import { SocieteListCommand } from './cli/commands/societe-list.command';
import { SocieteMoveCommand } from './cli/commands/societe-move.command';
import { StatusCommand } from './cli/commands/status.command';
import { CutoverCommand } from './cli/commands/cutover.command';
import { VerifyCommand } from './cli/commands/verify.command';
import { CliRunnerModule } from './cli/runner/cli-runner.module';
import { DemoService } from './demo/demo.service';
import { AccessCheckModule } from './modules/access-check/access-check.module';
import { DatabaseMultiTenantModule } from './modules/database/database-multi-tenant.module';
import { SocietesModule } from './modules/societes/societes.module';
import { MigrationScriptsModule } from './scripts/migration/migration-scripts.module';

const COMMANDS = [
  StatusCommand,
  CutoverCommand,
  AuditCommand,
  DryRunCommand,
  BackupCommand,
  CleanCommand,
  MigrateCommand,
  VerifyCommand,
  RollbackCommand,
  SocieteCreateCommand,
  SocieteListCommand,
  SocieteMoveCommand,
  DemoCommand,
];

/** The CLI: the shared data layer, the migration services, and one thin command per guide script. */
@Module({
  imports: [
    DatabaseMultiTenantModule,
    CliRunnerModule,
    SocietesModule,
    MigrationScriptsModule,
    AccessCheckModule,
  ],
  providers: [...COMMANDS, DemoService],
})
export class CliModule {}
