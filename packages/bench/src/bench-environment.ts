import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DISTRIBUTIONS } from '@topsteel/legacy-fixture';

export const ROOT = join(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'apps', 'api', 'dist', 'cli.js');
export const APP = join(ROOT, 'apps', 'api', 'dist', 'main.js');

export type Server = { host: string; port: number; user: string; password: string };

/** The server measured: PG* variables, defaulting to the local one. */
export function benchServer(): Server {
  return {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    password: process.env.PGPASSWORD ?? '',
  };
}

/** One installation under test: a monolith and the databases its split creates, all named bench_<label>. */
export class BenchInstallation {
  readonly monolith: string;
  readonly directory: string;

  /** prefix: another than `bench` keeps one engineer's runs apart from another's on a shared server. */
  constructor(
    readonly server: Server,
    readonly label: string,
    prefix = 'bench',
  ) {
    this.monolith = `${prefix}_${label}`;
    this.directory = join(ROOT, 'bench', 'work', label);
    mkdirSync(this.directory, { recursive: true });
  }

  get auth(): string {
    return `${this.monolith}_auth`;
  }

  get shared(): string {
    return `${this.monolith}_shared`;
  }

  get tenant(): string {
    return `${this.monolith}_topsteel`;
  }

  /** The CLI's environment for this installation (never reads the developer's .env). */
  env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(DB_|TENANT_|BACKUP_DIR|LOG_DIR)/.test(name)),
    );
    return {
      ...inherited,
      TOPSTEEL_ENV_FILE: 'none',
      DB_HOST: this.server.host,
      DB_PORT: String(this.server.port),
      DB_USERNAME: this.server.user,
      DB_PASSWORD: this.server.password,
      DB_NAME: this.monolith,
      DB_AUTH_NAME: this.auth,
      DB_SHARED_NAME: this.shared,
      DB_TENANT_PREFIX: this.monolith,
      BACKUP_DIR: join(this.directory, 'backups'),
      LOG_DIR: join(this.directory, 'logs'),
      ...overrides,
    };
  }

  /** libpq variables for pg_dump, pg_restore and pgcopydb (password in the environment, not argv). */
  pgEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PGHOST: this.server.host,
      PGPORT: String(this.server.port),
      PGUSER: this.server.user,
      PGPASSWORD: this.server.password,
    };
  }

  async query<Row extends Record<string, unknown> = Record<string, unknown>>(
    database: string,
    sql: string,
    parameters: unknown[] = [],
  ): Promise<Row[]> {
    const client = new Client({ ...this.server, database });
    await client.connect();
    try {
      return (await client.query<Row>(sql, parameters)).rows;
    } finally {
      await client.end();
    }
  }

  async exists(database: string): Promise<boolean> {
    return (
      (await this.query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).length === 1
    );
  }

  /**
   * Drops the split's databases (and any extra tenant), keeping the monolith, and the monoliths of
   * the other shapes with theirs: bench_s1000_one_large_table also starts with bench_s1000_.
   */
  async dropTargets(): Promise<void> {
    const otherShapes = DISTRIBUTIONS.filter((shape) => shape !== 'spread').map(
      (shape) => `${this.monolith}_${shape.replaceAll('-', '_')}`.replaceAll('_', '\\_') + '%',
    );
    const databases = await this.query<{ datname: string }>(
      'postgres',
      'SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2 AND NOT datname LIKE ANY ($3::text[])',
      [`${this.monolith}\\_%`, this.monolith, otherShapes],
    );
    for (const { datname } of databases)
      await this.query('postgres', `DROP DATABASE "${datname}" WITH (FORCE)`);
  }

  backupsExist(): boolean {
    return existsSync(join(this.directory, 'backups', 'pre-migration'));
  }
}
