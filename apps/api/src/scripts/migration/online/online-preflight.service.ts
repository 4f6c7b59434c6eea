import { Injectable } from '@nestjs/common';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { DryRunReport } from '../dry-run-migration';
import { DEFAULT_PLAN } from '../plan/default-plan';
import { ONLINE_APPLICATION } from './monolith-objects';
import { onlineChecks, readOnlinePrerequisites } from './online-prerequisites';

/** `db:migration:dry-run -- --online`: the online split's own pre-flight lines, added to the dry run's. */
@Injectable()
export class OnlinePreflightService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  async extend(report: DryRunReport): Promise<DryRunReport> {
    const planned = report.plan.tables.length > 0 ? report.plan.tables : DEFAULT_PLAN.tables;
    const prerequisites = await this.connections.withClient(
      { database: this.configService.config.monolithDatabase },
      (client) =>
        readOnlinePrerequisites(
          client,
          planned.map((table) => table.source),
        ),
      { readOnly: true, applicationName: ONLINE_APPLICATION },
    );
    const checks = [...report.checks, ...onlineChecks(prerequisites)];
    return { ...report, checks, ok: checks.every((check) => check.ok) };
  }
}
