import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { BenchCluster, startBenchCluster } from './bench-cluster';
import { BenchInstallation, CLI, Server } from './bench-environment';
import { checked, figure, Figure, run } from './measure';
import { ensureMonolith, migrateOnce } from './split.scenario';

/** One db:migrate measure over every server: wall time, and the peaks seen and reported per server. */
export type ServersMeasure = {
  seconds: Figure;
  /** Highest count of tenant-database backends seen at once in pg_stat_activity, per server. */
  peakSampled: Record<string, number>;
  /** Highest `migrations.peakPerServer` the `--json` reports gave, per server. */
  peakReported: Record<string, number>;
  /** CPU seconds of the db:migrate process itself: on a loaded machine, steadier than wall time. */
  cliCpuSeconds: Figure;
  /** What the server showed when it saw more tenant backends than the cap (first few samples). */
  overCap: string[];
};

export type ServersFigures = {
  tenants: number;
  /** Tenants per server name (`default` and the two extra clusters). */
  placement: Record<string, number>;
  /** TENANT_SERVER_MAX_CONNECTIONS (the default, 4) and the --jobs given to db:migrate. */
  cap: number;
  jobs: number;
  provisionSeconds: number;
  nothingPending: ServersMeasure;
  oneNewMigration: ServersMeasure;
  /** 1-minute load average before and after the measures: the machine is shared. */
  loadAverage: { before: number; after: number };
};

type Placed = { name: string; server: Server; createStrategy: string; template: string; codes: string[] };

const CAP = 4;
const log = (text: string) => process.stderr.write(`${text}\n`);
const EXTRA_SERVERS = ['srv1', 'srv2'];

/** Clusters still running: SIGINT/SIGTERM removes them before the bench exits. */
const running = new Set<BenchCluster>();

function removeOnSignal(): () => void {
  const handler = (signal: NodeJS.Signals) => {
    log(`  ${signal}: removing the bench's extra clusters…`);
    void Promise.all([...running].map((cluster) => cluster.remove())).finally(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function onServer<Row extends Record<string, unknown>>(
  server: Server,
  database: string,
  work: (client: Client) => Promise<Row[]>,
): Promise<Row[]> {
  const client = new Client({ ...server, database, application_name: 'topsteel-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Tenant codes per server, round-robin over the servers, TOPSTEEL already on `default`. */
function placement(tenants: number, servers: string[]): Map<string, string[]> {
  const codes = new Map(servers.map((name) => [name, [] as string[]]));
  codes.get('default')?.push('TOPSTEEL');
  for (let index = 1; index < tenants; index++) {
    const name = servers[index % servers.length];
    codes.get(name)?.push(`S${String(index).padStart(4, '0')}`);
  }
  return codes;
}

/**
 * Copies of one template tenant per server (CREATE DATABASE … TEMPLATE only copies within a
 * cluster), marked and recorded as the tool records the databases it creates, then the registry
 * rows in one statement per table.
 */
async function provision(installation: BenchInstallation, placed: Placed[]): Promise<void> {
  const marker = (code: string) =>
    `topsteel-migration tenant ${code} bench installation=${installation.auth}`;
  const database = (code: string) => `${installation.monolith}_${code.toLowerCase()}`;
  await Promise.all(
    placed.map((place) =>
      onServer(place.server, 'postgres', async (client) => {
        for (const code of place.codes) {
          if (database(code) === place.template) continue;
          const name = `"${database(code)}"`;
          await client.query(`CREATE DATABASE ${name} TEMPLATE "${place.template}" ${place.createStrategy}`);
          await client.query(`COMMENT ON DATABASE ${name} IS '${marker(code)}'`);
          await client.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${name} FROM PUBLIC`);
        }
        return [];
      }),
    ),
  );
  const rows = placed.flatMap((place) =>
    place.codes
      .filter((code) => code !== 'TOPSTEEL' && database(code) !== place.template)
      .map((code) => ({ code, database: database(code), server: place.name })),
  );
  await onServer(installation.server, installation.auth, async (client) => {
    await client.query(
      `INSERT INTO societes (code, nom, database_name, database_server)
       SELECT code, 'Bench ' || code, database, server FROM unnest($1::text[], $2::text[], $3::text[]) AS t(code, database, server)`,
      [rows.map((row) => row.code), rows.map((row) => row.database), rows.map((row) => row.server)],
    );
    await client.query(
      `INSERT INTO migration_journal.databases (name, kind, societe_code, server)
       SELECT database, 'tenant', code, server FROM unnest($1::text[], $2::text[], $3::text[]) AS t(code, database, server)
       ON CONFLICT DO NOTHING`,
      [rows.map((row) => row.code), rows.map((row) => row.database), rows.map((row) => row.server)],
    );
    return [];
  });
}

type Backend = { pid: number; application_name: string; state: string | null; database: string };

/**
 * Samples pg_stat_activity on every server while `work` runs: tenant-database backends at once. The
 * backends of a sample above the cap are kept (first few), so a report can say what they were.
 */
async function peaksDuring<T>(
  installation: BenchInstallation,
  servers: Map<string, Server>,
  work: () => Promise<T>,
): Promise<{ result: T; peaks: Record<string, number>; overCap: string[] }> {
  const peaks: Record<string, number> = {};
  const overCap: string[] = [];
  let sampling = true;
  const samplers = [...servers].map(async ([name, server]) => {
    peaks[name] = 0;
    await onServer(server, 'postgres', async (client) => {
      while (sampling) {
        const { rows } = await client.query<Backend>(
          `SELECT pid, application_name, state, datname AS database FROM pg_stat_activity
           WHERE datname LIKE $1 AND datname NOT IN ($2, $3, $4) AND pid <> pg_backend_pid()`,
          [`${installation.monolith}\\_%`, installation.auth, installation.shared, installation.monolith],
        );
        peaks[name] = Math.max(peaks[name], rows.length);
        if (rows.length > CAP && overCap.length < 5)
          overCap.push(
            `${name}: ${rows.map((row) => `${row.pid} ${row.application_name} ${row.state ?? 'starting'} ${row.database}`).join('; ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return [];
    });
  });
  try {
    return { result: await work(), peaks, overCap };
  } finally {
    sampling = false;
    await Promise.all(samplers);
  }
}

const maxOf = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [name, value] of Object.entries(from)) into[name] = Math.max(into[name] ?? 0, value);
};

type MigrateJson = {
  migrations: { nothingToDo: boolean; migrated: number; peakPerServer: Record<string, number> };
};

/** `runs` db:migrate runs; `prepare(index)` sets up each one, `check` validates its report. */
async function measure(
  installation: BenchInstallation,
  servers: Map<string, Server>,
  runs: number,
  args: {
    env: (index: number) => NodeJS.ProcessEnv;
    jobs: number;
    what: string;
    check: (report: MigrateJson) => void;
  },
): Promise<ServersMeasure> {
  const seconds: number[] = [];
  const cpu: number[] = [];
  const overCap: string[] = [];
  const peakSampled: Record<string, number> = {};
  const peakReported: Record<string, number> = {};
  for (let index = 0; index < runs; index++) {
    const {
      result,
      peaks,
      overCap: over,
    } = await peaksDuring(installation, servers, () =>
      checked(
        run(process.execPath, [CLI, 'migrate', '--json', '--jobs', String(args.jobs)], args.env(index)),
        args.what,
      ),
    );
    const report = JSON.parse(result.stdout) as MigrateJson;
    args.check(report);
    seconds.push(result.seconds);
    cpu.push(result.cpuSeconds);
    overCap.push(...over.slice(0, 5 - overCap.length));
    maxOf(peakSampled, peaks);
    maxOf(peakReported, report.migrations.peakPerServer);
    log(
      `    run ${index + 1}: ${result.seconds.toFixed(2)} s (CLI CPU ${result.cpuSeconds.toFixed(2)} s), peaks seen ${JSON.stringify(peaks)}, reported ${JSON.stringify(report.migrations.peakPerServer)}`,
    );
  }
  return { seconds: figure(seconds), peakSampled, peakReported, cliCpuSeconds: figure(cpu), overCap };
}

/** Writes the pending tenant migration of run `index` (earlier ones stay, as shipped migrations do). */
function writeMigrations(directory: string, index: number): void {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(join(directory, 'tenant'), { recursive: true });
  for (let version = 0; version <= index; version++) {
    const name = `BenchServersColumn${1767225600000 + version}`;
    writeFileSync(
      join(directory, 'tenant', `${String(version).padStart(3, '0')}.js`),
      `class ${name} { constructor() { this.name = '${name}'; } async up(q) { await q.query('ALTER TABLE clients ADD COLUMN IF NOT EXISTS bench_servers_${version} integer'); } async down(q) { await q.query('ALTER TABLE clients DROP COLUMN bench_servers_${version}'); } }\nmodule.exports = { ${name} };\n`,
    );
  }
}

/**
 * Issue 16: `tenants` sociétés over the default server and two extra clusters the bench starts,
 * then db:migrate with nothing pending and with one new tenant migration, with the connections per
 * server seen by each server and reported by the tool. The clusters are removed at the end, also on
 * failure or SIGINT; the split's databases on the default server are dropped, the small monolith kept.
 */
export async function serversScenario(
  server: Server,
  tenants: number,
  runs: number,
): Promise<ServersFigures> {
  const installation = new BenchInstallation(server, 'servers');
  const stopListening = removeOnSignal();
  try {
    await ensureMonolith(installation, 1);
    log('  split of the scale-1 monolith (AUTH, SHARED, TOPSTEEL on the default server)…');
    await migrateOnce(installation);
    const extras = await Promise.all(
      EXTRA_SERVERS.map(async () => {
        const cluster = await startBenchCluster({
          password: randomBytes(12).toString('hex'),
          // A throwaway cluster: durability would only measure this machine's disk.
          settings: { max_connections: 60, shared_buffers: '32MB', fsync: 'off' },
        });
        running.add(cluster);
        return cluster;
      }),
    );
    const servers = new Map<string, Server>([
      ['default', server],
      ...EXTRA_SERVERS.map((name, index) => [name, extras[index]] as [string, Server]),
    ]);
    const serverEnv: Record<string, string> = {
      TENANT_SERVERS: EXTRA_SERVERS.map((name, index) => `${name}=127.0.0.1:${extras[index].port}`).join(','),
      ...Object.fromEntries(
        EXTRA_SERVERS.map((name, index) => [
          `TENANT_SERVER_${name.toUpperCase()}_PASSWORD`,
          extras[index].password,
        ]),
      ),
    };
    const codes = placement(tenants, [...servers.keys()]);
    log(`  provisioning ${tenants} tenants over ${servers.size} servers…`);
    const started = process.hrtime.bigint();
    const placed: Placed[] = [];
    for (const [name, serverCodes] of codes) {
      if (name === 'default') {
        placed.push({ name, server, createStrategy: '', template: installation.tenant, codes: serverCodes });
        continue;
      }
      // The first société of an extra server is created by the tool itself; the others copy it.
      await checked(
        run(
          process.execPath,
          [CLI, 'societe:create', serverCodes[0], `Bench ${serverCodes[0]}`, '--server', name, '--json'],
          installation.env(serverEnv),
        ),
        `societe:create on ${name}`,
      );
      const template = `${installation.monolith}_${serverCodes[0].toLowerCase()}`;
      // FILE_COPY: plain file copies and a checkpoint, cheap on a throwaway cluster without fsync.
      placed.push({
        name,
        server: servers.get(name) as Server,
        createStrategy: 'STRATEGY FILE_COPY',
        template,
        codes: serverCodes,
      });
    }
    await provision(installation, placed);
    const provisionSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    log(`  provisioned in ${provisionSeconds.toFixed(1)} s`);

    const jobs = servers.size * CAP;
    const before = loadavg()[0];
    log(`  db:migrate --jobs ${jobs}, nothing pending (${runs} runs)`);
    const nothingPending = await measure(installation, servers, runs, {
      env: () => installation.env(serverEnv),
      jobs,
      what: 'db:migrate (nothing pending, 3 servers)',
      check: (report) => {
        if (!report.migrations.nothingToDo) throw new Error('expected nothing to do');
      },
    });
    log(`  db:migrate --jobs ${jobs}, one new tenant migration (${runs} runs)`);
    const extraDir = join(installation.directory, 'extra-migrations');
    const oneNewMigration = await measure(installation, servers, runs, {
      env: (index) => {
        writeMigrations(extraDir, index);
        return installation.env({ ...serverEnv, MIGRATIONS_EXTRA_DIR: extraDir });
      },
      jobs,
      what: 'db:migrate (one new migration, 3 servers)',
      check: (report) => {
        if (report.migrations.migrated !== tenants)
          throw new Error(`expected ${tenants} migrated, got ${report.migrations.migrated}`);
      },
    });
    return {
      tenants,
      placement: Object.fromEntries([...codes].map(([name, list]) => [name, list.length])),
      cap: CAP,
      jobs,
      provisionSeconds: Math.round(provisionSeconds * 10) / 10,
      nothingPending,
      oneNewMigration,
      loadAverage: { before: Math.round(before * 100) / 100, after: Math.round(loadavg()[0] * 100) / 100 },
    };
  } finally {
    await Promise.all(
      [...running].map(async (cluster) => {
        await cluster.remove();
        running.delete(cluster);
      }),
    );
    stopListening();
    await installation
      .dropTargets()
      .catch((error: unknown) => log(`  could not drop the bench_servers databases: ${String(error)}`));
  }
}
