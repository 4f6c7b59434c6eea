import { Module } from '@nestjs/common';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { MigrationJournalModule } from '../../src/modules/database/journal/migration-journal.module';
import { MigrationJournalService } from '../../src/modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../src/modules/database/postgres-connection.factory';
import { changedTargetTables } from '../../src/scripts/migration/split/target-changes';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule, MigrationJournalModule] })
class JournalTestModule {}

/** What db:rollback:validate asks: which journaled target tables changed since the tool loaded them. */
export async function changedTables(environment: TestEnvironment): Promise<string[]> {
  const context = await createTestContext(JournalTestModule, environment);
  try {
    const journal = await context.get(MigrationJournalService).read();
    const changes = await changedTargetTables(context.get(PostgresConnectionFactory), journal?.tables ?? []);
    return changes.map((change) => `${change.database}.${change.table}`);
  } finally {
    await context.close();
  }
}
