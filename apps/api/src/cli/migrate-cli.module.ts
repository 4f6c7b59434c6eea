import { Module } from '@nestjs/common';
import { DatabaseCoreModule } from '../modules/database/database-core.module';
import { MigrationJournalModule } from '../modules/database/journal/migration-journal.module';
import { SocieteProvisioningService } from '../modules/societes/societe-provisioning.service';
import { SocieteRegistryService } from '../modules/societes/societe-registry.service';
import { BackupCatalogService } from '../scripts/migration/backup/backup-catalog.service';
import { BackupCurrentDatabaseService } from '../scripts/migration/backup-current-database';
import { ConnectionBudgetService } from '../scripts/migration/copy/connection-budget.service';
import { DryRunMigrationService } from '../scripts/migration/dry-run-migration';
import { MigrationService } from '../scripts/migration/migration-service';
import { OnlineSplitService } from '../scripts/migration/online/online-split.service';
import { SplitOrchestrator } from '../scripts/migration/split/split-orchestrator';
import { SplitTargets } from '../scripts/migration/targets/split-targets';
import { PgToolsService } from '../scripts/migration/tools/pg-tools.service';
import { MigrateCommand } from './commands/migrate.command';
import { CliRunnerModule } from './runner/cli-runner.module';

/**
 * The whole CLI for `topsteel migrate` alone, over the plain-`pg` data layer: the split and the
 * schema fan-out never use the named TypeORM connections or their entity metadata (the schema
 * migrations load TypeORM themselves when they run), which CliModule builds at start-up, and on a
 * small monolith start-up is a large part of db:migrate (see docs/benchmarks.md). The same classes
 * serve it in CliModule, so its behaviour and output are the same.
 */
@Module({
  imports: [DatabaseCoreModule, CliRunnerModule, MigrationJournalModule],
  providers: [
    MigrateCommand,
    MigrationService,
    OnlineSplitService,
    ConnectionBudgetService,
    DryRunMigrationService,
    PgToolsService,
    SplitOrchestrator,
    SplitTargets,
    BackupCurrentDatabaseService,
    BackupCatalogService,
    SocieteRegistryService,
    SocieteProvisioningService,
  ],
})
export class MigrateCliModule {}
