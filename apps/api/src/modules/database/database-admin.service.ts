import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { quoteIdentifier, quoteLiteral, safeIdentifier } from '../../common/identifiers/identifier';
import { DatabaseConfigService } from './database-config.service';
import { DatabaseException, DatabaseExceptionCode } from './database.exception';
import { Ownership, ownershipMarker, readOwnership } from './ownership-marker';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

export { OWNERSHIP_MARKER } from './ownership-marker';

export type CreateDatabaseOptions = {
  /** Copies the monolith's encoding and collation so text compares and sorts the same way. */
  encoding?: string;
  collate?: string;
  ctype?: string;
  /** Free text appended to the ownership marker (run id, kind). */
  note?: string;
  /**
   * A database that will replace the monolith (rollback restore) keeps the monolith's access
   * rules: no ownership marker, no REVOKE from PUBLIC.
   */
  asMonolithReplacement?: boolean;
};

export type DatabaseInfo = {
  name: string;
  sizeBytes: number;
  comment: string | null;
  connections: number;
  /** false while its doors are closed (ALLOW_CONNECTIONS false), e.g. by an interrupted rollback. */
  acceptsConnections: boolean;
};

/**
 * Database-level administration. Every name is validated as a safe identifier and quoted before it
 * reaches SQL; statements run on the maintenance database of the target server.
 */
@Injectable()
export class DatabaseAdminService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  private maintenance<T>(
    location: Omit<DatabaseLocation, 'database'>,
    work: (client: Client) => Promise<T>,
  ): Promise<T> {
    return this.connections.withClient(
      { ...location, database: this.configService.config.maintenanceDatabase },
      work,
      { applicationName: 'topsteel-admin' },
    );
  }

  async exists(location: DatabaseLocation): Promise<boolean> {
    const name = safeIdentifier(location.database, 'database name');
    return this.maintenance(location, async (client) => {
      const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      return result.rowCount === 1;
    });
  }

  /** Creates a database, closes it to PUBLIC and marks it as created by this tool. */
  async create(location: DatabaseLocation, options: CreateDatabaseOptions = {}): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    const clauses: string[] = [];
    if (options.encoding || options.collate || options.ctype) clauses.push('TEMPLATE template0');
    if (options.encoding) clauses.push(`ENCODING ${quoteLiteral(options.encoding)}`);
    if (options.collate) clauses.push(`LC_COLLATE ${quoteLiteral(options.collate)}`);
    if (options.ctype) clauses.push(`LC_CTYPE ${quoteLiteral(options.ctype)}`);
    const marker = ownershipMarker(this.configService.config.authDatabase, options.note);
    await this.maintenance(location, async (client) => {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)} ${clauses.join(' ')}`);
      if (options.asMonolithReplacement) return;
      // The marker right away; a crash before it leaves an empty database, which adoptIfEmpty takes over.
      await client.query(`COMMENT ON DATABASE ${quoteIdentifier(name)} IS ${quoteLiteral(marker)}`);
      await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdentifier(name)} FROM PUBLIC`);
    });
  }

  async comment(location: DatabaseLocation): Promise<string | null> {
    const name = safeIdentifier(location.database, 'database name');
    return this.maintenance(location, async (client) => {
      const result = await client.query<{ comment: string | null }>(
        "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
        [name],
      );
      return result.rows[0]?.comment ?? null;
    });
  }

  /** Whose marker the database carries, as this installation (its AUTH database) reads it. */
  async ownership(location: DatabaseLocation): Promise<Ownership> {
    return readOwnership(await this.comment(location), this.configService.config.authDatabase);
  }

  async isOwnedByTool(location: DatabaseLocation): Promise<boolean> {
    return (await this.ownership(location)).owner === 'ours';
  }

  async terminateConnections(location: DatabaseLocation): Promise<number> {
    const name = safeIdentifier(location.database, 'database name');
    return this.maintenance(location, async (client) => {
      const result = await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      return result.rowCount ?? 0;
    });
  }

  /** Drops a database after closing its sessions. Refuses a database this tool did not create unless told otherwise. */
  async drop(location: DatabaseLocation, options: { requireOwnership: boolean }): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    if (options.requireOwnership && (await this.exists(location))) {
      const ownership = await this.ownership(location);
      if (ownership.owner !== 'ours') throw notOurs(name, ownership, 'refusing to drop');
    }
    await this.maintenance(location, async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) return;
      // Blocks new sessions first so that terminating the current ones is final.
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} ALLOW_CONNECTIONS false`);
      try {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`DROP DATABASE ${quoteIdentifier(name)}`);
      } catch (error) {
        // A database we failed to drop must stay usable (and dumpable by a rerun).
        await client
          .query(`ALTER DATABASE ${quoteIdentifier(name)} ALLOW_CONNECTIONS true`)
          .catch(() => undefined);
        throw error;
      }
    });
  }

  /** Renames a database; new sessions are held off meanwhile so a reconnecting client cannot block it. */
  async rename(location: DatabaseLocation, newName: string): Promise<void> {
    const from = safeIdentifier(location.database, 'database name');
    const to = safeIdentifier(newName, 'new database name');
    await this.maintenance(location, async (client) => {
      await client.query(`ALTER DATABASE ${quoteIdentifier(from)} ALLOW_CONNECTIONS false`);
      let current = from;
      try {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [from],
        );
        await client.query(`ALTER DATABASE ${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(to)}`);
        current = to;
      } finally {
        await client.query(`ALTER DATABASE ${quoteIdentifier(current)} ALLOW_CONNECTIONS true`);
      }
    });
  }

  /**
   * Closes a database to new sessions and ends the current ones except `keepPid` (a session of the
   * caller's, opened before): after this nothing but that session can change it.
   */
  async closeDoors(location: DatabaseLocation, keepPid: number): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    await this.maintenance(location, async (client) => {
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} ALLOW_CONNECTIONS false`);
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2',
        [name, keepPid],
      );
    });
  }

  async openDoors(location: DatabaseLocation): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    await this.maintenance(location, async (client) => {
      await client.query(`ALTER DATABASE ${quoteIdentifier(name)} ALLOW_CONNECTIONS true`);
    });
  }

  /** No table, view, sequence or other relation outside the system schemas: nothing there could be lost. */
  async isEmpty(location: DatabaseLocation): Promise<boolean> {
    return this.connections.withClient(
      location,
      async (client) => {
        const result = await client.query<{ count: string }>(
          `SELECT count(*) AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`,
        );
        return Number(result.rows[0].count) === 0;
      },
      { applicationName: 'topsteel-admin' },
    );
  }

  /**
   * Tables holding at least one row, outside the journal's schema and TypeORM's `migrations` (which
   * a crashed provisioning leaves filled): one statement that reads at most one row per table.
   */
  async tablesWithRows(location: DatabaseLocation): Promise<string[]> {
    return this.connections.withClient(
      location,
      async (client) => {
        const tables = await client.query<{ schema: string; name: string }>(
          `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'migration_journal')
             AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
             AND NOT (n.nspname = 'public' AND c.relname = 'migrations')
           ORDER BY 1, 2`,
        );
        if (tables.rows.length === 0) return [];
        const probes = tables.rows.map(
          (table) =>
            `SELECT ${quoteLiteral(`${table.schema}.${table.name}`)} AS name WHERE EXISTS (SELECT 1 FROM ${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)})`,
        );
        const found = await client.query<{ name: string }>(probes.join(' UNION ALL '));
        return found.rows.map((row) => row.name.replace(/^public\./, ''));
      },
      { applicationName: 'topsteel-admin' },
    );
  }

  /**
   * Takes over an existing database with the expected name, or throws naming it and why not:
   * - unmarked: only when it holds no relation at all (a crash between CREATE DATABASE and its
   *   marker leaves exactly that), and it is then marked as ours;
   * - marked by this installation: only when no table holds a row (a crashed provisioning leaves
   *   migrated, empty tables), unless `resume` says the caller's journal records this database as
   *   its own unfinished work (the split's targets, after its pre-flight compared them);
   * - marked by another installation (another AUTH database, same prefix): never.
   * Either way an adopted database ends closed to PUBLIC: a crash may have come before the REVOKE.
   */
  async adoptIfEmpty(
    location: DatabaseLocation,
    note: string,
    options: { resume?: boolean } = {},
  ): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    const ownership = await this.ownership(location);
    if (ownership.owner === 'other-installation') throw notOurs(name, ownership, 'refusing to adopt');
    if (ownership.owner === 'ours') {
      const rows = options.resume ? [] : await this.tablesWithRows(location);
      if (rows.length > 0) {
        throw new DatabaseException(
          DatabaseExceptionCode.HoldsData,
          `refusing to adopt database "${name}": it still holds rows (${rows.slice(0, 3).join(', ')}${rows.length > 3 ? ', …' : ''})`,
          { database: name, tables: rows },
        );
      }
    } else {
      if (!(await this.isEmpty(location))) throw notOurs(name, ownership, 'refusing to adopt');
      await this.maintenance(location, async (client) => {
        await client.query(
          `COMMENT ON DATABASE ${quoteIdentifier(name)} IS ${quoteLiteral(ownershipMarker(this.configService.config.authDatabase, note))}`,
        );
      });
    }
    await this.closeToPublic(location);
  }

  /** REVOKE CONNECT, TEMPORARY FROM PUBLIC (idempotent): a resumed run re-applies it in case a crash came first. */
  async closeToPublic(location: DatabaseLocation): Promise<void> {
    const name = safeIdentifier(location.database, 'database name');
    await this.maintenance(location, async (client) => {
      await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdentifier(name)} FROM PUBLIC`);
    });
  }

  /**
   * The named databases (all when no names are given) with size, comment and open connections,
   * those closed to connections included: read from the maintenance database, so a database whose
   * doors are closed is still seen (and said to be closed).
   */
  async list(location: Omit<DatabaseLocation, 'database'>, names?: string[]): Promise<DatabaseInfo[]> {
    return this.maintenance(location, (client) => this.listWith(client, names));
  }

  /** `list` on a maintenance connection the caller already holds (db:status reads its whole catalogue on one). */
  async listWith(client: Client, names?: string[]): Promise<DatabaseInfo[]> {
    const result = await client.query<{
      name: string;
      size: string | null;
      comment: string | null;
      connections: number;
      accepts: boolean;
    }>(
      `SELECT d.datname AS name,
              CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size, shobj_description(d.oid, 'pg_database') AS comment,
              (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datname = d.datname) AS connections,
              d.datallowconn AS accepts
       FROM pg_database d
       WHERE NOT d.datistemplate AND ($1::text[] IS NULL OR d.datname = ANY($1::text[]))
       ORDER BY d.datname`,
      [names ?? null],
    );
    return result.rows.map((row) => ({
      name: row.name,
      sizeBytes: Number(row.size ?? 0),
      comment: row.comment,
      connections: row.connections,
      acceptsConnections: row.accepts,
    }));
  }
}

function notOurs(name: string, ownership: Ownership, refusing: string): DatabaseException {
  const why =
    ownership.owner === 'other-installation'
      ? `it belongs to another installation of the tool (AUTH database "${ownership.installation}")`
      : 'it was not created by this tool';
  return new DatabaseException(
    DatabaseExceptionCode.NotOwnedByTool,
    `${refusing} database "${name}": ${why}`,
    {
      database: name,
      ...(ownership.owner === 'other-installation' ? { installation: ownership.installation } : {}),
    },
  );
}
