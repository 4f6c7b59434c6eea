import { Injectable } from '@nestjs/common';
import { cpus } from 'node:os';
import { SCHEMA_KINDS, SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';

/**
 * Sessions one copy worker can hold at once (see CopyEngine): its reader in the snapshot, and one
 * writer per target database it has copied into so far (AUTH, SHARED, the tenant), kept open.
 */
export const SESSIONS_PER_WORKER = 1 + SCHEMA_KINDS.length;

/**
 * Sessions a split holds besides its workers: the migration lock, the exported snapshot, the
 * journal, and one for the reads beside the copy (fingerprints, the pre-flight, the catalogue).
 */
export const SESSIONS_BESIDES_WORKERS = 4;

/** What this role can still open on the server now, and which limit is the tighter one. */
export type ConnectionRoom = {
  free: number;
  limitedBy: 'server' | 'role';
  detail: string;
};

/** The --jobs a run uses, and why it is lower than asked when it is. */
export type JobsDecision = {
  jobs: number;
  /** --jobs as given, or null for the default (CPUs, 2 to 8). */
  requested: number | null;
  capped: boolean;
  freeConnections: number;
  limitedBy: 'server' | 'role';
  /** Said on stderr and kept in the report when --jobs was lowered. */
  note?: string;
};

/**
 * Readers of the verification's source side (half the workers, at least one). During the copy
 * they checksum the source in its snapshot beside the workers: the first takes the run's session
 * for reads beside the copy, the others count on top.
 */
export const verificationReaders = (jobs: number): number => Math.max(1, Math.floor(jobs / 2));

export const sessionsNeeded = (jobs: number): number =>
  jobs * SESSIONS_PER_WORKER + SESSIONS_BESIDES_WORKERS + verificationReaders(jobs) - 1;

/**
 * Sessions validating a database's foreign keys: the tenant's (the large tables) one per worker,
 * AUTH's and SHARED's one each (CopyEngine.restoreConstraints).
 */
export const keyValidationSessions = (kind: SchemaKind, jobs: number): number =>
  kind === 'tenant' ? Math.max(1, jobs) : 1;

/**
 * Sessions hashing a target database in the verification, all in its snapshot: a second one on
 * the tenant from two workers up, where the copy's workers left room (verify/verify-sessions.ts).
 */
export const targetHashSessions = (kind: SchemaKind, jobs: number): number =>
  kind === 'tenant' && jobs >= 2 ? 2 : 1;

const sumOverDatabases = (sessions: (kind: SchemaKind) => number): number =>
  SCHEMA_KINDS.reduce((sum, kind) => sum + sessions(kind), 0);

/**
 * Sessions open at once when the verification starts beside the foreign keys' validation: the
 * run's lock, journal and snapshot, the source readers beside the copy (still finishing, at
 * worst), the keys' sessions, ANALYZE's (one per database), the link of the users, and the
 * verification's (its target sessions, its source readers and the monolith's fresh snapshot).
 */
export const sessionsVerifyingBesideKeys = (jobs: number): number => {
  const readers = verificationReaders(jobs);
  const keys = sumOverDatabases((kind) => keyValidationSessions(kind, jobs));
  const verification = sumOverDatabases((kind) => targetHashSessions(kind, jobs)) + readers + 1;
  return 3 + readers + keys + SCHEMA_KINDS.length + 1 + verification;
};

/** Whether the connections free leave room for the verification beside the keys' validation. */
export const roomToVerifyBesideKeys = (decision: JobsDecision): boolean =>
  decision.freeConnections >=
  Math.max(sessionsNeeded(decision.jobs), sessionsVerifyingBesideKeys(decision.jobs));

/** The CPU count (2 to 8), lowered to what the free connections allow; an explicit --jobs too. */
export function fitJobs(
  requested: number | undefined,
  room: ConnectionRoom,
  cpuCount = cpus().length,
): JobsDecision {
  const wanted = requested ?? Math.max(2, Math.min(8, cpuCount));
  let jobs = wanted;
  while (jobs > 1 && sessionsNeeded(jobs) > room.free) jobs--;
  const decision: JobsDecision = {
    jobs,
    requested: requested ?? null,
    capped: jobs < wanted,
    freeConnections: room.free,
    limitedBy: room.limitedBy,
  };
  if (decision.capped)
    decision.note =
      `--jobs ${wanted} lowered to ${jobs}: ${room.detail}, and each worker holds up to ${SESSIONS_PER_WORKER} sessions ` +
      `plus ${SESSIONS_BESIDES_WORKERS} for the run (${sessionsNeeded(wanted)} needed for ${wanted})`;
  return decision;
}

/**
 * The one connection budget of migrate, dry-run and verify: the server's free slots
 * (max_connections less the reserved ones and every client connection open now) and, for a role
 * with a CONNECTION LIMIT, what it leaves. A run that asked for more workers than fit would fail
 * halfway with "too many connections"; it is capped instead, and says so.
 */
@Injectable()
export class ConnectionBudgetService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  async room(): Promise<ConnectionRoom> {
    const row = await this.connections.withClient(
      { database: this.configService.config.maintenanceDatabase },
      async (client) => {
        const result = await client.query<{
          max: number;
          reserved: number;
          used: number;
          role_limit: number;
          role_used: number;
          superuser: boolean;
        }>(
          `SELECT current_setting('max_connections')::int AS max,
                  current_setting('superuser_reserved_connections')::int
                    + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) AS reserved,
                  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
                  r.rolconnlimit AS role_limit, r.rolsuper AS superuser,
                  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = current_user) AS role_used
           FROM pg_roles r WHERE r.rolname = current_user`,
        );
        return result.rows[0];
      },
      { applicationName: 'topsteel-connection-budget' },
    );
    // This session closes once counted: it is not part of what the run competes with.
    const server = row.max - row.reserved - (row.used - 1);
    const role = row.role_limit >= 0 && !row.superuser ? row.role_limit - (row.role_used - 1) : Infinity;
    const user = this.configService.config.username;
    return role < server
      ? {
          free: role,
          limitedBy: 'role',
          detail: `role ${user} has CONNECTION LIMIT ${row.role_limit}, ${role} free`,
        }
      : {
          free: server,
          limitedBy: 'server',
          detail: `${server} of max_connections ${row.max} free on the server`,
        };
  }

  async jobs(requested?: number): Promise<JobsDecision> {
    return fitJobs(requested, await this.room());
  }
}
