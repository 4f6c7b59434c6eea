import { Module } from '@nestjs/common';
import { MigrationJournalService } from './migration-journal.service';

/** The journal in AUTH: migrate, rollback and société provisioning all record what they create here. */
@Module({ providers: [MigrationJournalService], exports: [MigrationJournalService] })
export class MigrationJournalModule {}
