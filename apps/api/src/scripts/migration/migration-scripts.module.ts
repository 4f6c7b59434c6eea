import { Module } from '@nestjs/common';
import { SocietesModule } from '../../modules/societes/societes.module';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { MigrationJournalService } from './journal/migration-journal.service';
import { MigrationStatusService } from './migration-status.service';

const SERVICES = [BackupCatalogService, MigrationJournalService, MigrationStatusService];

/** The services behind the guide's scripts; commands and tests drive them. */
@Module({ imports: [SocietesModule], providers: SERVICES, exports: SERVICES })
export class MigrationScriptsModule {}
