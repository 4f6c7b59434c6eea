import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { quoteIdentifier } from '../../src/common/identifiers/identifier';
import { DatabaseAdminService } from '../../src/modules/database/database-admin.service';
import { DatabaseMultiTenantModule } from '../../src/modules/database/database-multi-tenant.module';
import { MigrationLockService } from '../../src/modules/database/migration-lock.service';
import { SchemaMigrationService } from '../../src/modules/database/schema-migration.service';
import { SocieteInput } from '../../src/modules/societes/societe-input';
import { SocieteMembershipService } from '../../src/modules/societes/societe-membership.service';
import { SocieteProvisioningService } from '../../src/modules/societes/societe-provisioning.service';
import { SocieteRecord } from '../../src/modules/societes/societe-registry.service';
import { SocietesModule } from '../../src/modules/societes/societes.module';
import { MigrationJournalService } from '../../src/modules/database/journal/migration-journal.service';
import { createTestContext } from '../../../../test/harness/nest-context';
import { TestEnvironment } from '../../../../test/harness/test-environment';

@Module({ imports: [DatabaseMultiTenantModule, SocietesModule] })
class SplitFixtureModule {}

/**
 * Builds split databases quickly without a monolith (AUTH and SHARED created and migrated, sociétés
 * provisioned through SocieteProvisioningService), for tests about the app rather than the split
 * (many sociétés, few rows). The acceptance test of the app runs the real db:migrate instead.
 */
export class SplitFixture {
  private constructor(
    readonly environment: TestEnvironment,
    readonly context: INestApplicationContext,
  ) {}

  static async create(
    environment: TestEnvironment,
    overrides: Record<string, string | undefined> = {},
  ): Promise<SplitFixture> {
    const context = await createTestContext(SplitFixtureModule, environment, overrides);
    const admin = context.get(DatabaseAdminService);
    const migrations = context.get(SchemaMigrationService);
    for (const [database, kind] of [
      [environment.names.auth, 'auth'],
      [environment.names.shared, 'shared'],
    ] as const) {
      await admin.create({ database });
      await migrations.run({ database }, kind);
    }
    // The journal's CREATE SCHEMA IF NOT EXISTS races when parallel provisionings create it first.
    await context.get(MigrationJournalService).withJournal(async () => undefined);
    return new SplitFixture(environment, context);
  }

  /** A fixture over databases that already exist (made by a real db:migrate). */
  static async attach(environment: TestEnvironment): Promise<SplitFixture> {
    return new SplitFixture(environment, await createTestContext(SplitFixtureModule, environment));
  }

  /** Provisions sociétés under the migration lock, a few at a time (2 cores). */
  async societes(inputs: SocieteInput[], concurrency = 3): Promise<SocieteRecord[]> {
    const provisioning = this.context.get(SocieteProvisioningService);
    return this.context
      .get(MigrationLockService)
      .withMigrationLock('test-fixture', { timeoutMs: 10000 }, async (lock) => {
        const results: SocieteRecord[] = new Array<SocieteRecord>(inputs.length);
        let next = 0;
        const worker = async () => {
          while (next < inputs.length) {
            const index = next++;
            const result = await provisioning.ensureSociete(inputs[index], { runId: randomUUID(), lock });
            results[index] = result.societe;
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        return results;
      });
  }

  async addMember(societe: string, user: string, options: { isDefault?: boolean } = {}): Promise<void> {
    await this.context.get(SocieteMembershipService).addMember(societe, user, options);
  }

  /**
   * Copies a table's rows as JSON (types converted by PostgreSQL on both sides), adding or
   * overriding columns, e.g. the tenant's `societe_id`.
   */
  async copyTable(
    from: { database: string; table: string },
    to: { database: string; table: string },
    override: Record<string, unknown> = {},
  ): Promise<number> {
    const [{ rows }] = await this.environment.query<{ rows: Record<string, unknown>[] }>(
      from.database,
      `SELECT coalesce(json_agg(t), '[]') AS rows FROM ${quoteIdentifier(from.table)} t`,
    );
    const target = quoteIdentifier(to.table);
    await this.environment.query(
      to.database,
      `INSERT INTO ${target} SELECT * FROM json_populate_recordset(null::${target}, $1::json)`,
      [JSON.stringify(rows.map((row) => ({ ...row, ...override })))],
    );
    return rows.length;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
