import { Module } from '@nestjs/common';
import { SocietesModule } from '../../modules/societes/societes.module';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { MigrationJournalModule } from './journal/migration-journal.module';
import { MigrationStatusService } from './migration-status.service';

const SERVICES = [BackupCatalogService, MigrationStatusService];

/** The services behind the guide's scripts; commands and tests drive them. */
@Module({
  imports: [SocietesModule, MigrationJournalModule],
  providers: SERVICES,
  exports: [...SERVICES, MigrationJournalModule],
})
export class MigrationScriptsModule {}
