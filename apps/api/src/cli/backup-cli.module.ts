import { Module } from '@nestjs/common';
import { DatabaseCoreModule } from '../modules/database/database-core.module';
import { MigrationJournalModule } from '../modules/database/journal/migration-journal.module';
import { SocieteRegistryService } from '../modules/societes/societe-registry.service';
import { BackupCatalogService } from '../scripts/migration/backup/backup-catalog.service';
import { BackupCurrentDatabaseService } from '../scripts/migration/backup-current-database';
import { PgToolsService } from '../scripts/migration/tools/pg-tools.service';
import { BackupCommand } from './commands/backup.command';
import { CliRunnerModule } from './runner/cli-runner.module';

/**
 * The whole CLI for `topsteel backup` alone: pg_dump around plain-`pg` queries, no TypeORM. On a
 * small database the CLI's start-up is most of db:backup's time (see docs/benchmarks.md).
 */
@Module({
  imports: [DatabaseCoreModule, CliRunnerModule, MigrationJournalModule],
  providers: [
    BackupCommand,
    BackupCurrentDatabaseService,
    BackupCatalogService,
    PgToolsService,
    SocieteRegistryService,
  ],
})
export class BackupCliModule {}
