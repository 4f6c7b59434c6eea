import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { BenchInstallation, CLI } from './bench-environment';
import { startBenchCluster } from './bench-cluster';
import { checked, figure, Figure, run } from './measure';
import { ensureMonolith, migrateOnce } from './split.scenario';

export type MoveFigures = {
  scale: number;
  commandes: number;
  databaseMb: number;
  /** db:societe:move default → extra server, whole command (copy, verify, switch, dump, drop). */
  move: Figure;
  /** Of which the société answered 503 (mark to switch). */
  unavailable: Figure;
  steps: Record<string, Figure>;
  /** pg_dump -Fc of the tenant database | pg_restore into an empty database on the extra server. */
  pgDumpRestore: Figure;
};

const log = (text: string) => process.stderr.write(`${text}\n`);
const EXTRA_PASSWORD = 'bench-move-only-password';

type MoveJson = { unavailableMs: number; steps: { step: string; durationMs: number }[] };

/**
 * A société with `scale` × 1,000 commandes (the split's default société) moved to a second
 * PostgreSQL server and back, against `pg_dump -Fc | pg_restore` of the same database onto that
 * server. The move's figure includes what pg_dump | pg_restore does not: verification of every
 * table on both servers, and the dump of the old database kept in BACKUP_DIR.
 */
export async function moveScenario(
  installation: BenchInstallation,
  scale: number,
  runs: number,
): Promise<MoveFigures> {
  await ensureMonolith(installation, scale);
  if (!(await installation.exists(installation.tenant))) await migrateOnce(installation);
  const extra = await startBenchCluster({ password: EXTRA_PASSWORD, settings: { max_connections: 40 } });
  try {
    const env = installation.env({
      TENANT_SERVERS: `bench=127.0.0.1:${extra.port}`,
      TENANT_SERVER_BENCH_PASSWORD: EXTRA_PASSWORD,
    });
    const [facts] = await installation.query<{ size: string; commandes: string }>(
      installation.tenant,
      'SELECT pg_database_size(current_database())::text AS size, (SELECT count(*) FROM commandes)::text AS commandes',
    );
    const moves: number[] = [];
    const unavailable: number[] = [];
    const steps = new Map<string, number[]>();
    const pipe: number[] = [];
    for (let index = 0; index < runs; index++) {
      log(`  db:societe:move TOPSTEEL --to bench, then back (run ${index + 1}/${runs})`);
      for (const to of ['bench', 'default']) {
        const result = await checked(
          run(process.execPath, [CLI, 'societe:move', 'TOPSTEEL', '--to', to, '--json'], env),
          'db:societe:move',
        );
        const report = JSON.parse(result.stdout) as MoveJson;
        if (to !== 'bench') continue;
        moves.push(result.seconds);
        unavailable.push(report.unavailableMs / 1000);
        for (const step of report.steps)
          steps.set(step.step, [...(steps.get(step.step) ?? []), step.durationMs / 1000]);
      }
      rmSync(join(installation.directory, 'backups', 'moves'), { recursive: true, force: true });
      log(`  pg_dump -Fc | pg_restore onto the extra server (run ${index + 1}/${runs})`);
      pipe.push(await dumpRestore(installation, extra, EXTRA_PASSWORD));
    }
    return {
      scale,
      commandes: Number(facts.commandes),
      databaseMb: Math.round(Number(facts.size) / 1048576),
      move: figure(moves),
      unavailable: figure(unavailable),
      steps: Object.fromEntries([...steps].map(([step, values]) => [step, figure(values)])),
      pgDumpRestore: figure(pipe),
    };
  } finally {
    await extra.remove();
  }
}

async function dumpRestore(
  installation: BenchInstallation,
  extra: { host: string; port: number; user: string; password: string },
  password: string,
): Promise<number> {
  const target = 'bench_move_restore';
  const admin = new Client({ ...extra, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${target}`);
  } finally {
    await admin.end();
  }
  // The source's password through PGPASSWORD for pg_dump; the extra server's through a second
  // variable that the shell hands to pg_restore alone, never in argv.
  const result = await checked(
    run(
      'sh',
      [
        '-c',
        `pg_dump -Fc "${installation.tenant}" | PGPASSWORD="$RESTORE_PASSWORD" pg_restore --exit-on-error -h ${extra.host} -p ${extra.port} -U ${extra.user} -d ${target}`,
      ],
      { ...installation.pgEnv(), RESTORE_PASSWORD: password },
    ),
    'pg_dump | pg_restore',
  );
  return result.seconds;
}
