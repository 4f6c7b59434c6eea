import { NamedCheck } from '../../../common/run/checklist';
import { formatBytes } from '../../../common/format/format';
import { sessionsNeeded } from '../copy/connection-budget.service';
import { Finding } from '../plan/finding';
import { PreflightFacts } from './preflight-facts';

const MINIMUM_SERVER_MAJOR = 12;

const messages = (findings: Finding[]): string => findings.map((finding) => finding.message).join('; ');

/** The server and the role: version, CREATEDB. The client tools' lines follow them. */
export const SERVER_CHECKS: NamedCheck<PreflightFacts>[] = [
  {
    id: 'server-version',
    label: `server version ≥ ${MINIMUM_SERVER_MAJOR}`,
    run: ({ server }) => ({
      ok: server.major >= MINIMUM_SERVER_MAJOR,
      detail: `PostgreSQL ${server.version}`,
    }),
  },
  {
    id: 'create-database',
    label: 'the role can create databases',
    run: ({ server, config }) => ({
      ok: server.createdb,
      detail: server.createdb
        ? `${config.username} has CREATEDB`
        : `${config.username} lacks CREATEDB: ALTER ROLE ... CREATEDB`,
    }),
  },
];

/** What the split needs from the migrations, the targets, the plan, the data, the disk and the connections. */
export const PLAN_CHECKS: NamedCheck<PreflightFacts>[] = [
  {
    id: 'migrations',
    label: 'migration files for auth, shared and tenant found',
    run: ({ missingMigrations, migrationCounts }) => ({
      ok: missingMigrations.length === 0,
      detail: missingMigrations.length === 0 ? migrationCounts : `none for ${missingMigrations.join(', ')}`,
    }),
  },
  {
    id: 'targets',
    label: 'target databases absent, or created by this tool (resumable)',
    run: ({ targets }) => {
      const refused = targets.databases.filter((database) => database.action === 'refused');
      return {
        ok: refused.length === 0,
        detail:
          refused.length > 0
            ? `${refused.map((database) => `${database.name} ${database.reason ?? 'not created by this tool'}`).join('; ')}; ` +
              'such databases are never touched'
            : targets.databases.map((database) => `${database.name}: ${database.action}`).join(', '),
      };
    },
  },
  {
    id: 'read-access',
    label: 'the role reads every row of every planned table',
    run: ({ blockers }) => ({
      ok: blockers.access.length === 0,
      detail: messages(blockers.access) || 'SELECT granted, no row-level security in the way',
    }),
  },
  {
    id: 'plan-coverage',
    label: 'the plan covers the live schema',
    run: ({ blockers, validation }) => ({
      ok: blockers.schema.length === 0,
      detail:
        messages(blockers.schema) ||
        `${validation.plan.tasks.length} tables planned, ${validation.plan.excluded.length} excluded`,
    }),
  },
  {
    id: 'data-blockers',
    label: 'no blocker in the data',
    run: ({ blockers }) => ({
      ok: blockers.data.length === 0,
      detail: messages(blockers.data) || 'enum values and NOT NULL columns fit the targets',
    }),
  },
  {
    id: 'users',
    label: 'users to migrate identified',
    run: ({ validation, rowsOf }) => {
      const users = validation.plan.tasks.some((task) => task.source === 'users');
      return { ok: users, detail: users ? `${rowsOf('users')} user(s)` : 'no users table in the source' };
    },
  },
  {
    id: 'disk-space',
    label: `free disk space in BACKUP_DIR above the estimated dump size`,
    run: ({ freeDiskBytes, server, config }) => ({
      ok: freeDiskBytes === null || freeDiskBytes > Number(server.tables),
      detail:
        freeDiskBytes === null
          ? `cannot read free space of ${config.backupDir}`
          : `${formatBytes(freeDiskBytes)} free, dump estimated at most ${formatBytes(Number(server.tables))}`,
    }),
  },
  {
    id: 'connections',
    label: 'free connections for the copy workers',
    run: ({ room, jobs }) => {
      const needed = sessionsNeeded(jobs.jobs);
      return {
        ok: room.free >= needed,
        detail: `${room.detail}; ${needed} needed for --jobs ${jobs.jobs}${jobs.note ? ` (${jobs.note})` : ''}`,
      };
    },
  },
];
