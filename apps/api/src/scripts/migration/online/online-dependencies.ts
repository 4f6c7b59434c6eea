import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { MigrationJournalService } from '../../../modules/database/journal/migration-journal.service';
import { MigrationLockService } from '../../../modules/database/migration-lock.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { BackupCurrentDatabaseService } from '../backup-current-database';
import { DryRunMigrationService } from '../dry-run-migration';

/** The services the online split's phases share (the same ones the offline split uses). */
export type OnlineDependencies = {
  configService: DatabaseConfigService;
  connections: PostgresConnectionFactory;
  admin: DatabaseAdminService;
  lock: MigrationLockService;
  schemaMigrations: SchemaMigrationService;
  journal: MigrationJournalService;
  dryRun: DryRunMigrationService;
  backups: BackupCurrentDatabaseService;
};

export type OnlineOptions = {
  excludeTables?: string[];
  jobs: number;
  lockTimeoutMs: number;
  cutover: 'auto' | 'manual';
  maxLagMs: number;
  maxPauseMs: number;
  /** Subscribe the monolith to the new databases after the cutover (default; --no-reverse-sync turns it off). */
  reverseSync: boolean;
};
