import { Injectable } from '@nestjs/common';
import { DEFAULT_SERVER } from '../../../database/config/tenant-servers.config';
import { Client } from 'pg';
import { DatabaseAdminService, DatabaseInfo } from '../../../modules/database/database-admin.service';
import { DatabaseConfigService } from '../../../modules/database/database-config.service';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { SocieteRecord } from '../../../modules/societes/societe-registry.service';

export type ServerSocieteStatus = {
  code: string;
  database: string;
  exists: boolean;
  sizeBytes: number | null;
  connections: number;
};

export type ServerStatus = {
  /** The TENANT_SERVERS name (`default` is DB_HOST:DB_PORT); host:port for rows of older versions. */
  name: string;
  host: string;
  port: number;
  reachable: boolean;
  version: string | null;
  /** Connections open on the whole server, and on its tenant databases. */
  connections: number | null;
  tenantConnections: number;
  tenantCount: number;
  tenantSizeBytes: number;
  societes: ServerSocieteStatus[];
  error?: string;
};

/** What one server's catalogue says, all read on one maintenance connection. */
export type ServerCatalogue = {
  version: string;
  /** Client backends open on the whole server. */
  connections: number;
  infos: DatabaseInfo[];
};

type Group = { location: Omit<DatabaseLocation, 'database'>; societes: SocieteRecord[] };

/**
 * `db:status` per tenant server: every declared server is shown (an empty one too, so an operator
 * sees that a new server answers before placing sociétés on it), one short connection each, in parallel.
 * A server that does not answer is reported as such with its sociétés, never an error of the command.
 */
@Injectable()
export class ServerStatusService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
    private readonly admin: DatabaseAdminService,
  ) {}

  /** `known`: catalogues the caller already read, by server name (db:status reads the default server's once). */
  async collect(
    societes: SocieteRecord[],
    known: ReadonlyMap<string, ServerCatalogue> = new Map(),
  ): Promise<ServerStatus[]> {
    const groups = new Map<string, Group>();
    for (const server of this.configService.config.servers)
      groups.set(server.name, { location: { server: server.name }, societes: [] });
    for (const societe of societes) {
      const location = { server: societe.server, host: societe.host, port: societe.port };
      const name = societe.server ?? (societe.host ? this.addressOf(location) : DEFAULT_SERVER);
      const group = groups.get(name) ?? { location, societes: [] };
      group.societes.push(societe);
      groups.set(name, group);
    }
    return Promise.all([...groups].map(([name, group]) => this.serverStatus(name, group, known.get(name))));
  }

  /** Version, client connections and the databases `names` (all when undefined), on one connection. */
  async catalogueWith(client: Client, names?: string[]): Promise<ServerCatalogue> {
    const result = await client.query<{ version: string; connections: number }>(
      `SELECT current_setting('server_version') AS version,
              (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections`,
    );
    return { ...result.rows[0], infos: await this.admin.listWith(client, names) };
  }

  private addressOf(location: Omit<DatabaseLocation, 'database'>): string {
    const server = this.connections.server(location);
    return `${server.host}:${server.port}`;
  }

  private async serverStatus(name: string, group: Group, known?: ServerCatalogue): Promise<ServerStatus> {
    const societes: ServerSocieteStatus[] = group.societes.map((societe) => ({
      code: societe.code,
      database: societe.database,
      exists: false,
      sizeBytes: null,
      connections: 0,
    }));
    const status: ServerStatus = {
      name,
      host: '',
      port: 0,
      reachable: false,
      version: null,
      connections: null,
      tenantConnections: 0,
      tenantCount: societes.length,
      tenantSizeBytes: 0,
      societes,
    };
    try {
      const server = this.connections.server(group.location);
      status.host = server.host;
      status.port = server.port;
      const location = { ...group.location, database: this.configService.config.maintenanceDatabase };
      const catalogue =
        known ??
        (await this.connections.withClient(
          location,
          (client) =>
            this.catalogueWith(
              client,
              societes.map((societe) => societe.database),
            ),
          { applicationName: 'topsteel-status' },
        ));
      status.version = catalogue.version;
      status.connections = catalogue.connections;
      status.reachable = true;
      const found = new Map(catalogue.infos.map((info) => [info.name, info]));
      for (const societe of societes) {
        const info = found.get(societe.database);
        societe.exists = info !== undefined;
        societe.sizeBytes = info?.sizeBytes ?? null;
        societe.connections = info?.connections ?? 0;
      }
      status.tenantConnections = societes.reduce((total, societe) => total + societe.connections, 0);
      status.tenantSizeBytes = societes.reduce((total, societe) => total + (societe.sizeBytes ?? 0), 0);
    } catch (error) {
      status.error = error instanceof Error ? error.message : String(error);
    }
    return status;
  }
}
