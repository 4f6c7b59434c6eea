import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { Injectable } from '@nestjs/common';
import { Check } from '../../../common/run/check';
import { Checklist } from '../../../common/run/checklist';
import { RunContext } from '../../../common/run/run-context';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import {
  JournalContents,
  MigrationJournalService,
} from '../../../modules/database/journal/migration-journal.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SocieteRegistryService } from '../../../modules/societes/societe-registry.service';
import { ConnectionBudgetService, JobsDecision } from '../copy/connection-budget.service';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { splitLocations } from '../targets/split-targets';
import {
  ReferenceVerification,
  TableVerification,
  VerificationReport,
  verifySplit,
} from '../verify/split-verifier';
import { VERIFY_CHECKS, VerifyFacts } from './verify-checks';
import {
  authCounts,
  expectedFromJournal,
  guideCounts,
  tasksFromMonolith,
  tasksFromTargets,
  tenantDoors,
  tenantReferences,
} from './verify-sources';

export type VerifyReport = {
  ok: boolean;
  comparedWith: 'monolith' | 'journal';
  checks: Check[];
  tables: TableVerification[];
  references: ReferenceVerification[];
  counts: Record<string, number>;
  /** The --jobs used, capped by the free connections. */
  jobs: JobsDecision;
};

type Split = NonNullable<JournalContents['split']>;

/**
 * `db:verify`: the split's verification on demand (counts and checksums against the monolith, or
 * against what the journal recorded when the monolith is gone; cut references; every tenant),
 * plus every user linked to a société and every tenant database closed to PUBLIC.
 */
@Injectable()
export class VerifyMigrationService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly journal: MigrationJournalService,
    private readonly societes: SocieteRegistryService,
    private readonly budget: ConnectionBudgetService,
  ) {}

  async verify(options: { jobs?: number }, run?: RunContext): Promise<VerifyReport> {
    const config = this.configService.config;
    const journal = await this.journal.read();
    if (!journal?.split) {
      throw new MigrationException(
        MigrationExceptionCode.NoSource,
        `no split recorded in ${config.authDatabase}: nothing to verify`,
      );
    }
    const jobs = await this.budget.jobs(options.jobs);
    if (jobs.note) run?.info(`⚠ ${jobs.note}.`);
    const locations = splitLocations(config);
    const monolith = { database: config.monolithDatabase };
    const monolithExists = await this.admin.exists(monolith);
    const { tasks, blockers } = monolithExists
      ? await tasksFromMonolith(this.connections, monolith, locations, journal.split.excludedTables)
      : { tasks: await tasksFromTargets(this.connections, locations, journal.tables), blockers: [] };
    const verification = await verifySplit(this.connections, {
      societeId: journal.split.societeId ?? (await this.defaultSocieteId()),
      tasks,
      cutReferences: DEFAULT_PLAN.cutReferences,
      locations,
      source: monolithExists ? monolith : undefined,
      expected: expectedFromJournal(locations, journal.tables),
      referenceBaselines: journal.referenceBaselines,
      jobs: jobs.jobs,
      progress: run?.progress,
    });
    const facts = await this.facts(journal.split, verification, blockers, monolithExists);
    const checklist = await new Checklist().run(facts, VERIFY_CHECKS);
    const { users, societes } = facts.auth;
    return {
      ok: checklist.ok,
      comparedWith: facts.comparedWith,
      checks: checklist.checks,
      tables: verification.tables,
      references: verification.references,
      counts: { users, societes, ...(await guideCounts(this.connections, locations)) },
      jobs,
    };
  }

  /** What the checks look at besides the verification: the other sociétés, AUTH's links, the tenants' doors. */
  private async facts(
    split: Split,
    verification: VerificationReport,
    planBlockers: string[],
    monolithExists: boolean,
  ): Promise<VerifyFacts> {
    const config = this.configService.config;
    const locations = splitLocations(config);
    const societes = await this.societes.list();
    const others = societes.filter((societe) => societe.database !== locations.tenant.database);
    const problems: string[] = [];
    for (const societe of others)
      problems.push(
        ...(await tenantReferences(
          this.connections,
          { database: societe.database, server: societe.server, host: societe.host, port: societe.port },
          locations,
        )),
      );
    const auth = await authCounts(this.connections, locations.auth);
    return {
      verification,
      planBlockers,
      excludedTables: split.excludedTables,
      comparedWith: monolithExists ? 'monolith' : 'journal',
      otherTenants: { count: others.length, problems },
      auth,
      tenantDoors: await tenantDoors(
        this.connections,
        { database: config.maintenanceDatabase },
        societes
          .filter((societe) => !societe.host && (societe.server ?? DEFAULT_SERVER) === DEFAULT_SERVER)
          .map((societe) => societe.database),
      ),
    };
  }

  /** The default société, for sources that predate the journal recording its id. */
  private async defaultSocieteId(): Promise<string> {
    const config = this.configService.config;
    return this.connections.withClient({ database: config.authDatabase }, async (client) => {
      const result = await client.query<{ id: string }>(
        'SELECT id FROM societes WHERE upper(code) = upper($1)',
        [config.defaultSocieteCode],
      );
      if (!result.rows[0])
        throw new MigrationException(
          MigrationExceptionCode.NoSource,
          `no société ${config.defaultSocieteCode.toUpperCase()} in ${config.authDatabase}`,
        );
      return result.rows[0].id;
    });
  }
}
