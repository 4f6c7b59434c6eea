import { Module } from '@nestjs/common';
import { DatabaseCoreModule } from '../modules/database/database-core.module';
import { MigrationJournalModule } from '../modules/database/journal/migration-journal.module';
import { SocieteRegistryService } from '../modules/societes/societe-registry.service';
import { BackupCatalogService } from '../scripts/migration/backup/backup-catalog.service';
import { MigrationStatusService } from '../scripts/migration/status/migration-status.service';
import { ServerStatusService } from '../scripts/migration/status/server-status.service';
import { StatusCommand } from './commands/status.command';
import { CliRunnerModule } from './runner/cli-runner.module';

/**
 * The whole CLI for `topsteel status` alone: the command, its services and the plain-`pg` data
 * layer. Monitoring runs db:status every minute, so it skips what the other commands need (TypeORM
 * and its entity metadata, the named connections, the split pipeline, logical replication), which
 * took half of its start-up. The same classes serve it in CliModule, so its output is the same.
 */
@Module({
  imports: [DatabaseCoreModule, CliRunnerModule, MigrationJournalModule],
  providers: [
    StatusCommand,
    MigrationStatusService,
    ServerStatusService,
    BackupCatalogService,
    SocieteRegistryService,
  ],
})
export class StatusCliModule {}
