import { generateMonolith } from '@topsteel/legacy-fixture';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, ClientConfig } from 'pg';
import {
  loadMultiTenantDatabaseConfig,
  MultiTenantDatabaseConfig,
} from '../../apps/api/src/database/config/multi-tenant-database.config';
import { TestServer, testRunId, testServer } from './test-server';

export type DatabaseNames = {
  monolith: string;
  auth: string;
  shared: string;
  tenantPrefix: string;
  defaultTenant: string;
};

/** Fixed "now" of generated monoliths, so that every test sees the same data. */
export const FIXTURE_REFERENCE_DATE = new Date(
  Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()),
);

/**
 * One test file's world: its own databases (a unique prefix, dropped afterwards), its own backup and
 * log folders, the environment to give the CLI, and helpers to query any of its databases.
 */
export class TestEnvironment {
  readonly prefix: string;
  readonly names: DatabaseNames;
  readonly root: string;
  readonly backupDir: string;
  readonly logDir: string;
  readonly #clients: Client[] = [];
  /** The server this environment lives on: the test run's one, or another (the logical cluster). */
  readonly #server: TestServer | undefined;

  private constructor(label: string, server?: TestServer) {
    this.#server = server;
    const clean = label
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 12);
    this.prefix = `tt${testRunId()}_${clean}${randomBytes(2).toString('hex')}`;
    this.names = {
      monolith: `${this.prefix}_mono`,
      auth: `${this.prefix}_auth`,
      shared: `${this.prefix}_shared`,
      tenantPrefix: this.prefix,
      defaultTenant: `${this.prefix}_topsteel`,
    };
    this.root = mkdtempSync(join(tmpdir(), `topsteel-${clean}-`));
    this.backupDir = join(this.root, 'backups');
    this.logDir = join(this.root, 'logs');
    mkdirSync(this.backupDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  static create(label: string, server?: TestServer): TestEnvironment {
    return new TestEnvironment(label, server);
  }

  get server(): TestServer {
    return this.#server ?? testServer();
  }

  /** The variables the CLI reads, pointing at this environment's databases and folders. */
  env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const server = this.server;
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(PG|DB_|TENANT_|BACKUP_DIR|LOG_DIR)/.test(name)),
    );
    return {
      ...inherited,
      TOPSTEEL_ENV_FILE: 'none',
      DB_HOST: server.host,
      DB_PORT: String(server.port),
      DB_USERNAME: server.user,
      DB_PASSWORD: server.password,
      DB_NAME: this.names.monolith,
      DB_AUTH_NAME: this.names.auth,
      DB_SHARED_NAME: this.names.shared,
      DB_TENANT_PREFIX: this.names.tenantPrefix,
      DB_MAINTENANCE_NAME: 'postgres',
      BACKUP_DIR: this.backupDir,
      LOG_DIR: this.logDir,
      ...overrides,
    };
  }

  config(overrides: Record<string, string | undefined> = {}): MultiTenantDatabaseConfig {
    return loadMultiTenantDatabaseConfig(this.env(overrides));
  }

  async client(database: string): Promise<Client> {
    const server = this.server;
    const client = new Client({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database,
    });
    client.on('error', () => undefined);
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
    this.#clients.push(client);
    return client;
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    database: string,
    sql: string,
    parameters: unknown[] = [],
  ): Promise<Row[]> {
    const client = await this.client(database);
    try {
      return (await client.query<Row>(sql, parameters)).rows;
    } finally {
      await this.release(client);
    }
  }

  async release(client: Client): Promise<void> {
    const index = this.#clients.indexOf(client);
    if (index >= 0) this.#clients.splice(index, 1);
    await client.end().catch(() => undefined);
  }

  async databaseExists(name: string): Promise<boolean> {
    return (
      (await this.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1
    );
  }

  /** A generated monolith (scale 1 unless told), cloned from a per-run template for speed. */
  async createMonolith(options: { scale?: number; name?: string; encoding?: string } = {}): Promise<string> {
    const scale = options.scale ?? 1;
    const name = options.name ?? this.names.monolith;
    if (options.encoding) {
      // Another encoding cannot be cloned from the UTF-8 template: generated directly.
      await generateMonolith({
        connection: maintenanceConnection(this.server),
        database: name,
        scale,
        referenceDate: FIXTURE_REFERENCE_DATE,
        encoding: options.encoding,
      });
      return name;
    }
    const template = await ensureTemplate(scale, this.server);
    await this.query('postgres', `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    return name;
  }

  async dropDatabases(): Promise<void> {
    for (const client of [...this.#clients]) await this.release(client);
    const databases = await this.query<{ datname: string }>(
      'postgres',
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${this.prefix}%`],
    );
    // An online split's reverse sync leaves subscriptions and slots that DROP DATABASE refuses to pass.
    for (const { datname } of databases) await this.dropReplication(datname);
    for (const { datname } of databases)
      await this.query('postgres', `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }

  private async dropReplication(database: string): Promise<void> {
    const subscriptions = await this.query<{ subname: string }>(
      'postgres',
      'SELECT subname FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = $1',
      [database],
    );
    if (subscriptions.length > 0) {
      const client = await this.client(database);
      try {
        await client.query('SET default_transaction_read_only = off');
        for (const { subname } of subscriptions) {
          await client.query(`ALTER SUBSCRIPTION "${subname}" DISABLE`);
          await client.query(`ALTER SUBSCRIPTION "${subname}" SET (slot_name = NONE)`);
          await client.query(`DROP SUBSCRIPTION "${subname}"`);
        }
      } finally {
        await this.release(client);
      }
    }
    await this.query(
      'postgres',
      `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`,
      [database],
    );
    await this.query(
      'postgres',
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`,
      [database],
    );
  }

  async cleanup(): Promise<void> {
    await this.dropDatabases();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The test server's maintenance database. */
function maintenanceConnection(server: TestServer = testServer()): ClientConfig {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
  };
}

/** Generates the scale's template monolith once per test run; workers serialise on an advisory lock. */
async function ensureTemplate(scale: number, server: TestServer): Promise<string> {
  const name = `tt${testRunId()}_template_s${String(scale).replace('.', '_')}`;
  const client = new Client(maintenanceConnection(server));
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await generateMonolith({
        connection: maintenanceConnection(server),
        database: name,
        scale,
        referenceDate: FIXTURE_REFERENCE_DATE,
      });
    }
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
  } finally {
    await client.end();
  }
  return name;
}
