import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { DatabaseAdminService } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { SchemaMigrationService } from '../../../modules/database/schema-migration.service';
import { SocieteRecord, SocieteRegistryService } from '../../../modules/societes/societe-registry.service';
import { PgToolsService } from '../tools/pg-tools.service';
import { MoveDependencies, MoveExecution } from './move-execution';
import { isCommitted, MoveJournal, MoveState } from './move-journal';
import { MoveException, MoveExceptionCode } from './move.exception';
import { MoveReport, MoveRequest } from './move.types';

export type ValidatedMove = { societe: SocieteRecord; from: string; to: string };

/**
 * db:societe:move: moves one société's tenant database to another declared server. The registry
 * switch in AUTH is the commit point: before it the société is served (after an undo) from its old
 * database, after it from the new one; a rerun after a crash undoes an unfinished copy and starts
 * again, or finishes the dump and drop of the old database.
 */
@Injectable()
export class SocieteMoveService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
    private readonly schemaMigrations: SchemaMigrationService,
    private readonly registry: SocieteRegistryService,
    private readonly tools: PgToolsService,
  ) {}

  /** Usage errors (exit 2) before the lock and before anything changes. */
  async validate(reference: string, to: string): Promise<ValidatedMove> {
    if (!this.configService.config.servers.some((server) => server.name === to)) {
      throw new MoveException(
        MoveExceptionCode.UnknownServer,
        `the server "${to}" is not declared in TENANT_SERVERS`,
      );
    }
    const societe = await this.registry.find(reference);
    if (!societe) {
      throw new MoveException(MoveExceptionCode.UnknownSociete, `no société "${reference}"`);
    }
    const from = this.serverOf(societe);
    if (!this.configService.config.servers.some((server) => server.name === from)) {
      throw new MoveException(
        MoveExceptionCode.UnknownServer,
        `société ${societe.code} is recorded on ${from}, which is not declared in TENANT_SERVERS; declare it first`,
      );
    }
    const pending = await this.withAuth((auth) => this.pendingMove(auth, societe.societeId));
    if (!pending && from === to) {
      throw new MoveException(
        MoveExceptionCode.SameServer,
        `société ${societe.code} already lives on server ${to}`,
      );
    }
    return { societe, from, to };
  }

  async move(request: MoveRequest): Promise<MoveReport> {
    const started = Date.now();
    const { societe, from, to } = await this.validate(request.societe, request.to);
    const report = await this.withAuth(async (auth) => {
      const moves = new MoveJournal(auth);
      await new JournalRepository(auth).ensureSchema();
      if (!(await moves.hasMovingColumn())) {
        throw new MoveException(MoveExceptionCode.AuthNotReady, 'societes.moving_since is missing');
      }
      const pending = await moves.read(societe.societeId);
      if (pending) {
        const resumed = await this.resume(auth, pending, request);
        if (resumed.outcome === 'finished' || pending.fromServer === to) return resumed;
      }
      return this.fresh(auth, { societe, from: pending?.fromServer ?? from, to }, request, pending !== null);
    });
    return { ...report, durationMs: Date.now() - started };
  }

  private async fresh(
    auth: Client,
    move: ValidatedMove,
    request: MoveRequest,
    resumed: boolean,
  ): Promise<MoveReport> {
    const state: MoveState = {
      societeId: move.societe.societeId,
      moveId: request.run.runId,
      code: move.societe.code,
      database: move.societe.database,
      fromServer: move.from,
      toServer: move.to,
      step: 'marked',
      dumpPath: null,
      movingSince: null,
    };
    if (!(await this.admin.exists({ database: state.database, server: state.fromServer }))) {
      throw new MoveException(
        MoveExceptionCode.SourceMissing,
        `the database "${state.database}" of société ${state.code} is not on server ${state.fromServer}`,
      );
    }
    // Checked before the société is marked: a database we did not create is never touched.
    if (await this.admin.exists({ database: state.database, server: state.toServer })) {
      throw new MoveException(
        MoveExceptionCode.TargetExists,
        `the database "${state.database}" already exists on server ${state.toServer}`,
        { database: state.database, server: state.toServer },
      );
    }
    const execution = new MoveExecution(this.dependencies(), auth, request, state);
    execution.report.resumedInterruptedMove = resumed;
    await execution.runUntilSwitch();
    await execution.finish();
    return execution.report;
  }

  /** An interrupted move: finished when it passed its switch, undone otherwise. */
  private async resume(auth: Client, pending: MoveState, request: MoveRequest): Promise<MoveReport> {
    const execution = new MoveExecution(this.dependencies(), auth, request, pending);
    execution.report.resumedInterruptedMove = true;
    if (isCommitted(pending.step)) {
      request.run.info(`→ finishing the interrupted move of ${pending.code} to server ${pending.toServer}`);
      await execution.finish();
      return { ...execution.report, outcome: 'finished' };
    }
    request.run.info(`→ undoing the interrupted move of ${pending.code} (step ${pending.step})`);
    request.lock.assertHeld();
    await execution.undo();
    return { ...execution.report, outcome: 'undone', to: pending.fromServer };
  }

  private async pendingMove(auth: Client, societeId: string): Promise<MoveState | null> {
    const present = await auth.query<{ present: boolean }>(
      "SELECT to_regclass('migration_journal.societe_moves') IS NOT NULL AS present",
    );
    return present.rows[0].present ? new MoveJournal(auth).read(societeId) : null;
  }

  /** The server name the registry implies; rows of older versions (host/port) resolve by address. */
  private serverOf(societe: SocieteRecord): string {
    if (societe.server) return societe.server;
    if (!societe.host) return DEFAULT_SERVER;
    return this.connections.server({ host: societe.host, port: societe.port }).name;
  }

  private dependencies(): MoveDependencies {
    const config = this.configService.config;
    return {
      connections: this.connections,
      admin: this.admin,
      schemaMigrations: this.schemaMigrations,
      tools: this.tools,
      maintenanceDatabase: config.maintenanceDatabase,
      backupDir: config.backupDir,
    };
  }

  private withAuth<T>(work: (auth: Client) => Promise<T>): Promise<T> {
    return this.connections.withClient({ database: this.configService.config.authDatabase }, work, {
      applicationName: 'topsteel-move',
    });
  }
}
