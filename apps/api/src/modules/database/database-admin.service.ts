import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { quoteIdentifier, quoteLiteral, safeIdentifier } from '../../common/identifiers/identifier';
import { DatabaseConfigService } from './database-config.service';
import { DatabaseException, DatabaseExceptionCode } from './database.exception';
import { DatabaseLocation, PostgresConnectionFactory } from './postgres-connection.factory';

/** Marker written as the database comment: it survives even when the journal in AUTH is gone. */
export const OWNERSHIP_MARKER = 'topsteel-migration';

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
    const marker = [OWNERSHIP_MARKER, options.note].filter(Boolean).join(' ');
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

  async isOwnedByTool(location: DatabaseLocation): Promise<boolean> {
    return (await this.comment(location))?.startsWith(OWNERSHIP_MARKER) ?? false;
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
    if (options.requireOwnership && (await this.exists(location)) && !(await this.isOwnedByTool(location))) {
      throw new DatabaseException(
        DatabaseExceptionCode.NotOwnedByTool,
        `refusing to drop database "${name}": it was not created by this tool`,
        {
          database: name,
        },
      );
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
   * Takes over a database with the expected name when it holds nothing: what a crash between
   * CREATE DATABASE and its ownership marker leaves behind. A database with any relation in it
   * stays someone else's. Either way the database ends closed to PUBLIC: a crash may have come
   * between the marker and the REVOKE.
   */
  async adoptIfEmpty(location: DatabaseLocation, note: string): Promise<boolean> {
    if (await this.isOwnedByTool(location)) {
      await this.closeToPublic(location);
      return true;
    }
    if (!(await this.isEmpty(location))) return false;
    const name = safeIdentifier(location.database, 'database name');
    await this.maintenance(location, async (client) => {
      await client.query(
        `COMMENT ON DATABASE ${quoteIdentifier(name)} IS ${quoteLiteral(`${OWNERSHIP_MARKER} ${note}`)}`,
      );
    });
    await this.closeToPublic(location);
    return true;
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
    return this.maintenance(location, async (client) => {
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
    });
  }
}
