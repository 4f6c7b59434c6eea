import { Module } from '@nestjs/common';
import { SocietesModule } from '../../modules/societes/societes.module';
import { AuditService } from './audit-current-data';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { DryRunMigrationService } from './dry-run-migration';
import { MigrationJournalModule } from './journal/migration-journal.module';
import { MigrationStatusService } from './migration-status.service';
import { PgToolsService } from './tools/pg-tools.service';

const SERVICES = [
  BackupCatalogService,
  MigrationStatusService,
  PgToolsService,
  AuditService,
  DryRunMigrationService,
];

/** The services behind the guide's scripts; commands and tests drive them. */
@Module({
  imports: [SocietesModule, MigrationJournalModule],
  providers: SERVICES,
  exports: [...SERVICES, MigrationJournalModule],
})
export class MigrationScriptsModule {}
