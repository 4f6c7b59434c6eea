import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { freeBytes } from '../../../common/fs/free-bytes';
import { CheckOutcome } from '../../../common/run/checklist';
import { RollbackDependencies } from './rollback-dependencies';
import { megabytes } from './rollback-messages';
import { DatabaseToDrop } from './rollback-state';

/** A database the rollback would drop, its owner and size, and the server (declared name) it is on. */
export type DropOwner = { name: string; owner: string; size: string; server: string };

/** The role the tool logs in as on one server that holds databases to drop. */
export type ServerRole = { server: string; username: string; superuser: boolean };

/** What the servers say about the roles, the databases to drop and the room for a restore. */
export type ServerFacts = {
  /** The default server's role: the restore of the monolith happens there. */
  superuser: boolean;
  createdb: boolean;
  versionNumber: number;
  /** Every database to drop, on whichever server holds it. */
  owners: DropOwner[];
  /** One per server holding a database to drop: DROP DATABASE needs ownership or superuser there. */
  roles: ServerRole[];
  /** The monolith's current size: what a restore of it will take again, about. Null when it is gone. */
  monolithBytes: number | null;
  /** The server's data directory, when this role may read it (superuser or pg_read_all_settings). */
  dataDirectory: string | null;
};

export async function readServerFacts(
  dependencies: RollbackDependencies,
  drop: DatabaseToDrop[],
): Promise<ServerFacts> {
  const config = dependencies.config;
  const facts = await dependencies.connections.withClient(
    { database: config.maintenanceDatabase },
    async (client) => {
      const role = await client.query<{
        superuser: boolean;
        createdb: boolean;
        number: string;
        directory: string | null;
      }>(
        `SELECT rolsuper AS superuser, rolcreatedb AS createdb, current_setting('server_version_num') AS number,
                CASE WHEN pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
                     THEN current_setting('data_directory') END AS directory
         FROM pg_roles WHERE rolname = current_user`,
      );
      const monolith = await client.query<{ size: string }>(
        "SELECT pg_database_size(oid) AS size FROM pg_database WHERE datname = $1 AND datallowconn AND has_database_privilege(oid, 'CONNECT')",
        [config.monolithDatabase],
      );
      const [row] = role.rows;
      return {
        superuser: row.superuser,
        createdb: row.createdb,
        versionNumber: Number(row.number),
        monolithBytes: monolith.rows[0] ? Number(monolith.rows[0].size) : null,
        dataDirectory: row.directory,
      };
    },
  );
  const perServer = await Promise.all(
    groupByServer(dependencies, drop).map((group) => readDropOwners(dependencies, group)),
  );
  return {
    ...facts,
    owners: perServer.flatMap((server) => server.owners),
    roles: perServer.map((server) => server.role),
  };
}

type ServerGroup = { server: string; location: Omit<DatabaseToDrop, 'name' | 'kind'>; names: string[] };

/** The databases to drop by the server that holds them (the journal's server name, or host:port). */
function groupByServer(dependencies: RollbackDependencies, drop: DatabaseToDrop[]): ServerGroup[] {
  const groups = new Map<string, ServerGroup>();
  for (const database of drop) {
    const location = { server: database.server ?? null, host: database.host, port: database.port };
    const server = dependencies.connections.server(location).name;
    const group = groups.get(server) ?? { server, location, names: [] };
    group.names.push(database.name);
    groups.set(server, group);
  }
  return [...groups.values()];
}

/**
 * Each server's role is checked where the databases are: TENANT_SERVER_<NAME>_USERNAME may be
 * another role than DB_USERNAME, and ownership on the default server says nothing about the others.
 */
async function readDropOwners(
  dependencies: RollbackDependencies,
  group: ServerGroup,
): Promise<{ owners: DropOwner[]; role: ServerRole }> {
  const location = { ...group.location, database: dependencies.config.maintenanceDatabase };
  const username = dependencies.connections.server(location).username;
  return dependencies.connections.withClient(location, async (client) => {
    const role = await client.query<{ superuser: boolean }>(
      'SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user',
    );
    const owners = await client.query<{ name: string; owner: string; size: string }>(
      'SELECT datname AS name, pg_get_userbyid(datdba) AS owner, pg_database_size(oid) AS size FROM pg_database WHERE datname = ANY($1::text[])',
      [group.names],
    );
    return {
      owners: owners.rows.map((row) => ({ ...row, server: group.server })),
      role: { server: group.server, username, superuser: role.rows[0]?.superuser ?? false },
    };
  });
}

/** Loopback or a Unix socket: only then can the server's data directory be a folder of this machine. */
function isLocalServer(host: string): boolean {
  return host.startsWith('/') || ['localhost', '127.0.0.1', '::1'].includes(host);
}

function device(path: string): number | null {
  let existing = path;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    return statSync(existing).dev;
  } catch {
    return null;
  }
}

/**
 * Room on the server for the restored monolith, which lives beside the current one until the swap.
 * PostgreSQL reports database sizes but not free space: free space is read from the data directory
 * only when the server is on this machine and lets this role see where it is. Otherwise the line
 * says it could not be checked, and why; it never guesses.
 */
export function restoreRoom(
  dependencies: RollbackDependencies,
  server: ServerFacts,
  dumpBytes: number,
): CheckOutcome {
  const { host, backupDir } = dependencies.config;
  const unknown = (why: string): CheckOutcome => ({
    ok: true,
    info: true,
    detail: `cannot be checked: ${why}; make sure the server's disk has room for ${server.monolithBytes === null ? `the restored monolith (its dump is ${megabytes(dumpBytes)}, compressed)` : `about ${megabytes(server.monolithBytes)} (the size of the current monolith)`} before going on`,
  });
  if (!isLocalServer(host))
    return unknown(
      `the server (${host}) is not on this machine, and PostgreSQL does not report free disk space`,
    );
  if (!server.dataDirectory) return unknown("this role may not read the server's data_directory");
  const free = existsSync(server.dataDirectory) ? freeBytes(server.dataDirectory) : null;
  if (free === null) return unknown(`the data directory ${server.dataDirectory} is not readable from here`);
  if (server.monolithBytes === null) {
    return {
      ok: true,
      info: true,
      detail: `${megabytes(free)} free on ${server.dataDirectory}; the monolith is gone, so the restore's size cannot be estimated (its dump is ${megabytes(dumpBytes)}, compressed)`,
    };
  }
  // The pre-drop dumps land in BACKUP_DIR: on the same disk, they take from the same room.
  const sameDisk =
    device(server.dataDirectory) !== null && device(server.dataDirectory) === device(backupDir);
  const dumps = sameDisk ? server.owners.reduce((sum, row) => sum + Number(row.size), 0) : 0;
  const needed = server.monolithBytes + dumps;
  return {
    ok: free > needed,
    detail: `${megabytes(free)} free on ${server.dataDirectory}, about ${megabytes(needed)} needed (the restored monolith${sameDisk ? ' and the pre-drop dumps, on the same disk' : ''})`,
  };
}
