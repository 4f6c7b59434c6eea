import { Module } from '@nestjs/common';
import { SocietesModule } from '../../modules/societes/societes.module';
import { AuditService } from './audit-current-data';
import { BackupCatalogService } from './backup/backup-catalog.service';
import { BackupCurrentDatabaseService } from './backup-current-database';
import { CleanTestDataService } from './clean-test-data';
import { ConnectionBudgetService } from './copy/connection-budget.service';
import { DryRunMigrationService } from './dry-run-migration';
import { MigrationJournalModule } from '../../modules/database/journal/migration-journal.module';
import { MigrationService } from './migration-service';
import { SocieteMoveService } from './move/societe-move.service';
import { CutoverRequestService } from './online/cutover-request.service';
import { OnlinePreflightService } from './online/online-preflight.service';
import { OnlineSplitService } from './online/online-split.service';
import { MigrationStatusService } from './status/migration-status.service';
import { ServerStatusService } from './status/server-status.service';
import { RollbackMigrationService } from './rollback-migration';
import { SplitOrchestrator } from './split/split-orchestrator';
import { SplitTargets } from './targets/split-targets';
import { PgToolsService } from './tools/pg-tools.service';
import { VerifyMigrationService } from './verify-command/verify-migration.service';

const SERVICES = [
  BackupCatalogService,
  BackupCurrentDatabaseService,
  MigrationStatusService,
  ServerStatusService,
  PgToolsService,
  ConnectionBudgetService,
  AuditService,
  CleanTestDataService,
  DryRunMigrationService,
  SplitTargets,
  SplitOrchestrator,
  MigrationService,
  OnlineSplitService,
  OnlinePreflightService,
  CutoverRequestService,
  VerifyMigrationService,
  RollbackMigrationService,
  SocieteMoveService,
];

/** The services behind the guide's scripts; commands and tests drive them. */
@Module({
  imports: [SocietesModule, MigrationJournalModule],
  providers: SERVICES,
  exports: [...SERVICES, MigrationJournalModule],
})
export class MigrationScriptsModule {}
