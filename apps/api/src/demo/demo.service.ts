import { Injectable } from '@nestjs/common';
import { ADMIN_ACCOUNT, generateMonolith } from '@topsteel/legacy-fixture';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Client } from 'pg';
import { RunContext } from '../common/run/run-context';
import { formatDuration } from '../common/format/format';
import { repositoryRoot } from '../database/config/repository-root';
import { configuredServer, DemoServer, embeddedServer } from './demo-server';

export const DEMO_DATABASES = {
  monolith: 'topsteel_demo',
  auth: 'topsteel_demo_auth',
  shared: 'topsteel_demo_shared',
  tenantPrefix: 'topsteel_demo',
} as const;

export type DemoStep = { name: string; command: string; exitCode: number; durationMs: number };

export type DemoReport = {
  server: { kind: DemoServer['kind']; host: string; port: number };
  directory: string;
  monolithGenerated: boolean;
  steps: DemoStep[];
  ok: boolean;
  locations: { backups: string; logs: string; auditReport: string | null };
  connect: string[];
};

export type DemoOptions = { directory?: string; scale: number; run: RunContext };

/** The migration guide in order, each step through the same CLI the npm scripts run. */
const GUIDE: { name: string; npm: string; args: string[] }[] = [
  { name: 'Back up the monolith', npm: 'npm run db:backup', args: ['backup'] },
  { name: 'Audit the data', npm: 'npm run db:audit', args: ['audit'] },
  { name: 'Review test data (dry run)', npm: 'npm run db:clean', args: ['clean'] },
  { name: 'Pre-flight checks and plan', npm: 'npm run db:migration:dry-run', args: ['dry-run'] },
  { name: 'Migrate (the split)', npm: 'npm run db:migrate', args: ['migrate'] },
  {
    name: 'Verify, including a login',
    npm: `VERIFY_PASSWORD=… npm run db:verify -- --login ${ADMIN_ACCOUNT.email}`,
    args: ['verify', '--login', ADMIN_ACCOUNT.email],
  },
  { name: 'Status', npm: 'npm run db:status', args: ['status'] },
  {
    name: 'Rollback readiness (changes nothing)',
    npm: 'npm run db:rollback:validate',
    args: ['rollback', '--validate'],
  },
];

/**
 * `npm run demo`: the whole guide on a generated monolith, on an embedded PostgreSQL when .env
 * does not point at a reachable server (then on a dedicated throwaway monolith there). Re-running
 * it shows the tool's idempotence: the split is found complete and every step still passes.
 */
@Injectable()
export class DemoService {
  directory(option?: string): string {
    return resolve(option ?? join(repositoryRoot(), '.demo'));
  }

  async run(options: DemoOptions): Promise<DemoReport> {
    const run = options.run;
    const directory = this.directory(options.directory);
    mkdirSync(directory, { recursive: true });
    const configured = await configuredServer();
    const server = configured ?? (await embeddedServer(directory));
    run.info(
      server.kind === 'embedded'
        ? `Using an embedded PostgreSQL on 127.0.0.1:${server.port} (data in ${displayPath(join(directory, 'postgres'))}).`
        : `Using the server of .env (${server.host}:${server.port}) with a dedicated throwaway monolith "${DEMO_DATABASES.monolith}".`,
    );
    try {
      const env = this.environment(server, directory);
      const monolithGenerated = await this.ensureMonolith(server, options.scale, run);
      const steps: DemoStep[] = [];
      for (const [index, step] of GUIDE.entries()) {
        run.shutdown.throwIfRequested();
        run.info(`\n━━ ${index + 1}/${GUIDE.length} ${step.name} ━━  ${step.npm}`);
        const started = Date.now();
        const exitCode = await this.cli(step.args, env);
        steps.push({ name: step.name, command: step.npm, exitCode, durationMs: Date.now() - started });
        run.info(
          `   ${exitCode === 0 ? '✅' : '❌'} ${step.name} (exit ${exitCode}, ${formatDuration(Date.now() - started)})`,
        );
        if (exitCode !== 0) break;
      }
      const logs = join(directory, 'logs');
      const audits = existsSync(logs)
        ? readdirSync(logs)
            .filter((name) => name.startsWith('audit-'))
            .sort()
        : [];
      return {
        server: { kind: server.kind, host: server.host, port: server.port },
        directory,
        monolithGenerated,
        steps,
        ok: steps.length === GUIDE.length && steps.every((step) => step.exitCode === 0),
        locations: {
          backups: join(directory, 'backups'),
          logs,
          auditReport: audits.length ? join(logs, audits[audits.length - 1]) : null,
        },
        connect: this.connectHints(server, directory),
      };
    } finally {
      await server.stop();
    }
  }

  /** Removes the demo's databases (on a configured server) and its folder. */
  async clean(option: string | undefined, run: RunContext): Promise<string[]> {
    const directory = this.directory(option);
    const removed: string[] = [];
    const configured = await configuredServer();
    if (configured) {
      const client = new Client({
        host: configured.host,
        port: configured.port,
        user: configured.user,
        password: configured.password || undefined,
        database: 'postgres',
      });
      await client.connect();
      try {
        const databases = await client.query<{ datname: string }>(
          "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'topsteel\\_demo\\_%'",
          [DEMO_DATABASES.monolith],
        );
        for (const { datname } of databases.rows) {
          await client.query(`DROP DATABASE "${datname.replace(/"/g, '""')}" WITH (FORCE)`);
          removed.push(datname);
        }
      } finally {
        await client.end();
      }
    }
    if (existsSync(directory)) {
      rmSync(directory, { recursive: true, force: true });
      removed.push(directory);
    }
    run.info(removed.length ? `Removed ${removed.join(', ')}.` : 'Nothing to remove.');
    return removed;
  }

  /** Starts the embedded server on the demo's data and waits for SIGINT/SIGTERM, for psql or the app. */
  async serve(option: string | undefined, run: RunContext): Promise<void> {
    const directory = this.directory(option);
    const server = await embeddedServer(directory);
    run.info(
      ['Embedded PostgreSQL running. Stop it with Ctrl-C.', ...this.connectHints(server, directory)].join(
        '\n',
      ),
    );
    await new Promise<void>((resolveWait) =>
      run.shutdown.signal.addEventListener('abort', () => resolveWait()),
    );
    await server.stop();
  }

  private environment(server: DemoServer, directory: string): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(PG|DB_|TENANT_|BACKUP_DIR|LOG_DIR|TOPSTEEL_ENV_FILE)/.test(name),
      ),
    );
    return {
      ...inherited,
      TOPSTEEL_ENV_FILE: 'none',
      DB_HOST: server.host,
      DB_PORT: String(server.port),
      DB_USERNAME: server.user,
      DB_PASSWORD: server.password,
      DB_NAME: DEMO_DATABASES.monolith,
      DB_AUTH_NAME: DEMO_DATABASES.auth,
      DB_SHARED_NAME: DEMO_DATABASES.shared,
      DB_TENANT_PREFIX: DEMO_DATABASES.tenantPrefix,
      BACKUP_DIR: join(directory, 'backups'),
      LOG_DIR: join(directory, 'logs'),
      VERIFY_PASSWORD: ADMIN_ACCOUNT.password,
    };
  }

  private async ensureMonolith(server: DemoServer, scale: number, run: RunContext): Promise<boolean> {
    const connection = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password || undefined,
      database: 'postgres',
    };
    const client = new Client(connection);
    await client.connect();
    const exists = await client
      .query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DATABASES.monolith])
      .finally(() => client.end());
    if (exists.rowCount) {
      run.info(
        `The demo monolith ${DEMO_DATABASES.monolith} exists already: running the guide on it again (every step is idempotent).`,
      );
      return false;
    }
    run.info(
      `Generating a sample TopSteel monolith "${DEMO_DATABASES.monolith}" (scale ${scale}: 66 tables with users, clients, orders, invoices, production…)`,
    );
    const report = await generateMonolith({ connection, database: DEMO_DATABASES.monolith, scale });
    run.info(
      `   ✅ generated in ${formatDuration(report.milliseconds)}: ${report.counts.commandes} commandes, ${report.counts.clients} clients, ${report.counts.users} users`,
    );
    return true;
  }

  /** One guide step: the compiled CLI as a child, its output shown on our stderr (our stdout is the summary). */
  private cli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
    return new Promise((resolveExit, reject) => {
      const child = spawn(process.execPath, [join(__dirname, '..', 'cli.js'), ...args], {
        env,
        stdio: ['ignore', 2, 2],
      });
      child.once('error', reject);
      child.once('close', (code) => resolveExit(code ?? 1));
    });
  }

  private connectHints(server: DemoServer, directory: string): string[] {
    if (server.kind === 'configured') {
      return [
        `psql -h ${server.host} -p ${server.port} -U ${server.user} ${DEMO_DATABASES.auth}   (credentials from your .env)`,
      ];
    }
    const passfile = displayPath(join(directory, 'pgpass'));
    const dirOption = directory === this.directory() ? '' : ` --dir ${displayPath(directory)}`;
    return [
      `npm run demo -- --serve${dirOption}      (starts the demo server again; the password is in ${passfile})`,
      `PGPASSFILE=${passfile} psql -h 127.0.0.1 -p ${server.port} -U postgres ${DEMO_DATABASES.auth}`,
      `databases: ${DEMO_DATABASES.monolith} (monolith), ${DEMO_DATABASES.auth}, ${DEMO_DATABASES.shared}, ${DEMO_DATABASES.tenantPrefix}_topsteel`,
    ];
  }
}

/** Relative to the current folder when below it, absolute otherwise. */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') ? shown : path;
}
