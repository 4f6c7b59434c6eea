import { Injectable } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';
import { TenantServer } from '../../database/config/multi-tenant-database.config';
import { DatabaseConfigService } from './database-config.service';
import {
  DatabaseException,
  DatabaseExceptionCode,
  transientConnectReason,
  translateDatabaseError,
} from './database.exception';

/**
 * Where a database lives. `server` names a server of TENANT_SERVERS (host, port and credentials come
 * from configuration, so a server moves by changing one variable); without it, `host`/`port` (rows of
 * older versions) or else the default server.
 */
export type DatabaseLocation = {
  database: string;
  server?: string | null;
  host?: string | null;
  port?: number | null;
};

/** The server a location resolves to: address and credentials. */
export type ResolvedServer = Pick<TenantServer, 'name' | 'host' | 'port' | 'username' | 'password'>;

export type ConnectOptions = {
  applicationName?: string;
  /** Read-only sessions that see every row: the monolith is opened this way by every reading command. */
  readOnly?: boolean;
};

/** Session settings that make text output, and therefore checksums, identical on every server. */
export const DETERMINISTIC_SESSION_SETTINGS = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
].join('; ');

/** A connect that was turned away for a moment and tried again; reports list them. */
export type ConnectionRetry = {
  target: string;
  /** Attempts made, the successful one included. */
  attempts: number;
  /** Why each failed attempt failed (ECONNREFUSED, 57P03, …). */
  reasons: string[];
  recovered: boolean;
};

const FIRST_RETRY_DELAY_MS = 250;
const LONGEST_RETRY_DELAY_MS = 4000;
/**
 * A statement or idle-in-transaction timeout set on a database or role for the app would kill a
 * long COPY, an index build or the session holding the exported snapshot mid-run: the tool's
 * sessions opt out. pg_dump resets them too, but only after its first query, so its sessions get
 * them at connection time as well (PGOPTIONS).
 */
const TIMEOUTS_OFF = '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0';
/**
 * PostgreSQL 14+: set at connection time too, since a session whose first query comes later than the
 * timeout (a loaded machine, pg_dump starting up) would be ended before it could opt out.
 */
const IDLE_SESSION_OFF = '-c idle_session_timeout=0';

/** Builds pg connections and child-process environments from the validated configuration. */
@Injectable()
export class PostgresConnectionFactory {
  /** Every connect of this process that needed more than one attempt. */
  readonly retries: ConnectionRetry[] = [];
  /** Called before each wait, so that a command can say why it is not progressing. */
  onRetry?: (retry: ConnectionRetry, delayMs: number) => void;

  /** Servers that refused IDLE_SESSION_OFF at connection time (PostgreSQL 12 and 13 do not know it). */
  readonly #withoutIdleSessionTimeout = new Set<string>();

  constructor(private readonly configService: DatabaseConfigService) {}

  private timeoutsOff(server: ResolvedServer): string {
    return this.#withoutIdleSessionTimeout.has(server.name)
      ? TIMEOUTS_OFF
      : `${TIMEOUTS_OFF} ${IDLE_SESSION_OFF}`;
  }

  /** The declared server of a location; an unknown server name is a configuration error (exit 2). */
  server(location: Pick<DatabaseLocation, 'server' | 'host' | 'port'>): ResolvedServer {
    const servers = this.configService.config.servers;
    if (location.server) {
      const named = servers.find((server) => server.name === location.server);
      if (!named) {
        throw new DatabaseException(
          DatabaseExceptionCode.UnknownServer,
          `the server "${location.server}" is not declared in TENANT_SERVERS`,
          { server: location.server },
        );
      }
      return named;
    }
    const fallback = servers[0];
    const host = location.host || fallback.host;
    const port = location.port || fallback.port;
    // A host:port recorded by an older version: the credentials of the declared server there, if any.
    const declared = servers.find((server) => server.host === host && server.port === port);
    return declared ?? { ...fallback, name: `${host}:${port}`, host, port };
  }

  clientConfig(location: DatabaseLocation, options: ConnectOptions = {}): ClientConfig {
    const config = this.configService.config;
    const server = this.server(location);
    const password = server.password.reveal();
    return {
      host: server.host,
      port: server.port,
      user: server.username,
      password: password === '' ? undefined : password,
      database: location.database,
      ssl: config.ssl,
      connectionTimeoutMillis: config.connectionTimeoutMs,
      keepAlive: true,
      application_name: (options.applicationName ?? 'topsteel').slice(0, 63),
      options: [
        this.timeoutsOff(server),
        // row_security=off makes a read that a policy would filter fail instead of silently missing rows.
        options.readOnly ? '-c default_transaction_read_only=on -c row_security=off' : '',
      ]
        .join(' ')
        .trim(),
    };
  }

  describe(location: DatabaseLocation): string {
    const server = this.server(location);
    const named = location.server
      ? `server ${server.name} (${server.host}:${server.port})`
      : `${server.host}:${server.port}`;
    return `database "${location.database}" on ${named}`;
  }

  /**
   * Opens a client; connection failures come back as DatabaseException with the exit code to use.
   * A connect turned away for a moment (refused, reset, server starting, no free slot) is retried
   * with backoff for at most DB_CONNECT_RETRY_TIMEOUT in all, so that a restarting pooler or a
   * checkpoint storm does not fail a run or a tenant; anything else (credentials, names) fails at once.
   */
  async connect(location: DatabaseLocation, options: ConnectOptions = {}): Promise<Client> {
    const deadline = Date.now() + this.configService.config.connectRetryMs;
    let retry: ConnectionRetry | undefined;
    let delay = FIRST_RETRY_DELAY_MS;
    for (;;) {
      try {
        const client = await this.connectOnce(location, options);
        if (retry) retry.recovered = true;
        return client;
      } catch (error) {
        const reason = transientConnectReason(error);
        const wait = Math.min(delay, deadline - Date.now());
        if (reason === undefined || wait <= 0) throw translateDatabaseError(error, this.describe(location));
        if (!retry) {
          retry = { target: this.describe(location), attempts: 1, reasons: [], recovered: false };
          this.retries.push(retry);
        }
        retry.reasons.push(reason);
        this.onRetry?.(retry, wait);
        await new Promise((resolve) => setTimeout(resolve, wait));
        retry.attempts += 1;
        delay = Math.min(delay * 2, LONGEST_RETRY_DELAY_MS);
      }
    }
  }

  private async connectOnce(location: DatabaseLocation, options: ConnectOptions): Promise<Client> {
    const client = new Client(this.clientConfig(location, options));
    // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      const server = this.server(location);
      // A server before PostgreSQL 14 refuses the unknown setting: once known, its sessions go without it.
      if (
        !/idle_session_timeout/.test(String((error as Error).message)) ||
        this.#withoutIdleSessionTimeout.has(server.name)
      )
        throw error;
      this.#withoutIdleSessionTimeout.add(server.name);
      return this.connectOnce(location, options);
    }
    return client;
  }

  async withClient<T>(
    location: DatabaseLocation,
    work: (client: Client) => Promise<T>,
    options: ConnectOptions = {},
  ): Promise<T> {
    const client = await this.connect(location, options);
    try {
      return await work(client);
    } catch (error) {
      throw translateDatabaseError(error, this.describe(location));
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Environment for pg_dump/pg_restore: the password travels here, never in argv
   * (DESIGN.md invariant 6). PATH and locale are kept; other PG* variables are replaced, PGOPTIONS
   * by the tool's own session settings.
   */
  childProcessEnvironment(location: DatabaseLocation): NodeJS.ProcessEnv {
    const config = this.configService.config;
    const server = this.server(location);
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('PG')),
    );
    const environment: NodeJS.ProcessEnv = {
      ...inherited,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: server.username,
      PGDATABASE: location.database,
      PGCONNECT_TIMEOUT: String(Math.max(1, Math.ceil(config.connectionTimeoutMs / 1000))),
      PGAPPNAME: 'topsteel-dump',
      PGOPTIONS: this.timeoutsOff(server),
      PGSSLMODE: config.ssl === false ? 'disable' : config.ssl.rejectUnauthorized ? 'verify-full' : 'require',
    };
    const password = server.password.reveal();
    if (password !== '') environment.PGPASSWORD = password;
    return environment;
  }
}
