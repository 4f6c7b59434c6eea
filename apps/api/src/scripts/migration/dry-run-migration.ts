import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { ExitCode } from '../../common/exceptions/exit-code';
import { isTopsteelException } from '../../common/exceptions/topsteel.exception';
import { Checklist } from '../../common/run/checklist';
import { DatabaseAdminService } from '../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../modules/database/database-config.service';
import { MigrationJournalService } from '../../modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../modules/database/schema-migration.service';
import { ConnectionBudgetService } from './copy/connection-budget.service';
import { DryRunOptions, dryRunReport, Preflight } from './dry-run/dry-run-report';
import { PLAN_CHECKS, SERVER_CHECKS } from './dry-run/preflight-checks';
import { gatherFacts } from './dry-run/preflight-facts';
import { preflightNotes } from './dry-run/preflight-notes';
import { targetDatabases } from './dry-run/target-databases';
import { PgToolsService } from './tools/pg-tools.service';

export type { DryRunOptions, DryRunReport, PlannedDatabase, Preflight } from './dry-run/dry-run-report';

/**
 * `db:migration:dry-run`, and the pre-flight `db:migrate` runs before writing anything: every check
 * with ✅/❌ and why (the named checks of dry-run/), then the plan (databases to create, tables with
 * row counts, exclusions).
 */
@Injectable()
export class DryRunMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly journal: MigrationJournalService,
    private readonly tools: PgToolsService,
    private readonly budget: ConnectionBudgetService,
  ) {}

  async preflight(options: DryRunOptions): Promise<Preflight> {
    const config = this.configService.config;
    const checklist = new Checklist();
    checklist.pass(
      'configuration',
      'configuration complete and valid',
      `monolith ${config.monolithDatabase} on ${config.host}:${config.port}, AUTH ${config.authDatabase}, ` +
        `SHARED ${config.sharedDatabase}, tenants ${config.tenantPrefix}_<code>`,
    );
    // What does not need the monolith's session is read while it connects: the connections free,
    // the targets as they are, and pg_dump's and pg_restore's versions (two process spawns).
    void this.tools.version('pg_dump');
    void this.tools.version('pg_restore');
    const around = this.around();
    around.catch(() => undefined); // observed below, unless the source cannot be reached
    const source = await this.openSource(checklist);
    if (!source) return { report: dryRunReport(checklist.checks, null), plan: null, splitComplete: false };
    try {
      await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      checklist.pass(
        'source',
        'source reachable',
        this.connections.describe({ database: config.monolithDatabase }),
      );
      const facts = await gatherFacts({ ...(await around), source }, this.schemaMigrations, options);
      await checklist.run(facts, SERVER_CHECKS);
      for (const line of await this.tools.checks(facts.server.major))
        checklist.add(line.id, line.label, line);
      await checklist.run(facts, PLAN_CHECKS);
      const { plan } = facts.validation;
      const planned = {
        databases: facts.targets.databases,
        tables: plan.tasks.map((task) => ({
          source: task.source,
          target: task.target,
          database: task.database,
          rows: facts.rowsOf(task.source),
        })),
        excluded: plan.excluded,
      };
      const report = dryRunReport(checklist.checks, planned, {
        findings: facts.validation.findings,
        notes: await preflightNotes(facts),
        jobs: facts.jobs,
      });
      return { report, plan, splitComplete: facts.targets.splitComplete };
    } finally {
      await source.query('ROLLBACK').catch(() => undefined);
      await source.end().catch(() => undefined);
    }
  }

  /** The monolith in a read-only session, or a failed "source reachable" line (configuration errors still exit 2). */
  private async openSource(checklist: Checklist): Promise<Client | null> {
    try {
      return await this.connections.connect(
        { database: this.configService.config.monolithDatabase },
        { readOnly: true, applicationName: 'topsteel-dry-run' },
      );
    } catch (error) {
      if (isTopsteelException(error) && error.exitCode === ExitCode.Usage) throw error;
      checklist.fail('source', 'source reachable', error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  /** Everything the facts need besides the monolith's session. */
  private async around(): Promise<Omit<Parameters<typeof gatherFacts>[0], 'source'>> {
    const [room, targets] = await Promise.all([
      this.budget.room(),
      targetDatabases({
        configService: this.configService,
        connections: this.connections,
        admin: this.admin,
        journal: this.journal,
      }),
    ]);
    return { config: this.configService.config, room, targets };
  }
}
