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

export type DatabaseInfo = { name: string; sizeBytes: number; comment: string | null; connections: number };

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
      // The marker first: if we die right after, a rerun still recognises the database as ours.
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

  async rename(location: DatabaseLocation, newName: string): Promise<void> {
    const from = safeIdentifier(location.database, 'database name');
    const to = safeIdentifier(newName, 'new database name');
    await this.maintenance(location, async (client) => {
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [from],
      );
      await client.query(`ALTER DATABASE ${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(to)}`);
    });
  }

  /** The named databases (all when no names are given) with size, comment and open connections. */
  async list(location: Omit<DatabaseLocation, 'database'>, names?: string[]): Promise<DatabaseInfo[]> {
    return this.maintenance(location, async (client) => {
      const result = await client.query<{
        name: string;
        size: string | null;
        comment: string | null;
        connections: number;
      }>(
        `SELECT d.datname AS name,
                CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size, shobj_description(d.oid, 'pg_database') AS comment,
                (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datname = d.datname) AS connections
         FROM pg_database d
         WHERE d.datallowconn AND NOT d.datistemplate AND ($1::text[] IS NULL OR d.datname = ANY($1::text[]))
         ORDER BY d.datname`,
        [names ?? null],
      );
      return result.rows.map((row) => ({
        name: row.name,
        sizeBytes: Number(row.size ?? 0),
        comment: row.comment,
        connections: row.connections,
      }));
    });
  }
}
