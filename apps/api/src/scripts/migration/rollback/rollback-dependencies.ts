import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { BackupCatalogService } from '../backup/backup-catalog.service';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { PgToolsService } from '../tools/pg-tools.service';
import { RollbackStateFile } from './rollback-state';

/** What the rollback's parts need, handed down by the entry service (which Nest builds). */
export type RollbackDependencies = {
  readonly config: MultiTenantDatabaseConfig;
  readonly connections: PostgresConnectionFactory;
  readonly admin: DatabaseAdminService;
  readonly journal: MigrationJournalService;
  readonly backups: BackupCurrentDatabaseService;
  readonly catalog: BackupCatalogService;
  readonly tools: PgToolsService;
  readonly stateFile: RollbackStateFile;
};
