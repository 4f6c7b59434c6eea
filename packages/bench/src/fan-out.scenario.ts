import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchInstallation, CLI } from './bench-environment';
import { checked, figure, Figure, run } from './measure';

export type FanOutFigures = {
  tenants: number;
  maxDataSources: number;
  nothingPending: { seconds: Figure; peakTenantConnections: number };
  oneNewMigration: { seconds: Figure; peakTenantConnections: number };
};

const log = (text: string) => process.stderr.write(`${text}\n`);

/**
 * Gives an installation (already split) `tenants` sociétés in all: the extra tenant databases are
 * copies of the default one made by CREATE DATABASE … TEMPLATE, recorded as the tool records them.
 */
export async function provisionTenants(installation: BenchInstallation, tenants: number): Promise<string[]> {
  const template = installation.tenant;
  const codes: string[] = [];
  const existing = await installation.query<{ code: string }>(installation.auth, 'SELECT code FROM societes');
  for (let index = 1; index < tenants; index++) {
    const code = `B${String(index).padStart(3, '0')}`;
    codes.push(code);
    if (existing.some((row) => row.code === code)) continue;
    const database = `${installation.monolith}_${code.toLowerCase()}`;
    await installation.query('postgres', `CREATE DATABASE "${database}" TEMPLATE "${template}"`);
    await installation.query(
      'postgres',
      `COMMENT ON DATABASE "${database}" IS 'topsteel-migration tenant ${code} bench'`,
    );
    await installation.query('postgres', `REVOKE CONNECT, TEMPORARY ON DATABASE "${database}" FROM PUBLIC`);
    await installation.query(
      installation.auth,
      'INSERT INTO societes (code, nom, database_name) VALUES ($1, $2, $3)',
      [code, `Bench ${code}`, database],
    );
    await installation.query(
      installation.auth,
      "INSERT INTO migration_journal.databases (name, kind, societe_code) VALUES ($1, 'tenant', $2) ON CONFLICT DO NOTHING",
      [database, code],
    );
  }
  return codes;
}

async function peakConnectionsDuring<T>(
  installation: BenchInstallation,
  work: () => Promise<T>,
): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [row] = await installation.query<{ count: string }>(
        'postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1 AND datname NOT IN ($2, $3, $4) AND application_name LIKE 'topsteel%'",
        [`${installation.monolith}\\_%`, installation.auth, installation.shared, installation.monolith],
      );
      peak = Math.max(peak, Number(row.count));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    const result = await work();
    return { result, peak };
  } finally {
    sampling = false;
    await sampler;
  }
}

/** db:migrate over every tenant: with nothing pending, then with one new tenant migration each run. */
export async function fanOutScenario(
  installation: BenchInstallation,
  tenants: number,
  maxDataSources: number,
  runs: number,
): Promise<FanOutFigures> {
  log(`  provisioning ${tenants} tenants…`);
  await provisionTenants(installation, tenants);
  const env = (extra: Record<string, string> = {}) =>
    installation.env({ TENANT_MAX_DATASOURCES: String(maxDataSources), ...extra });

  log(`  db:migrate with nothing pending over ${tenants} tenants (${runs} runs)`);
  const idle: number[] = [];
  let idlePeak = 0;
  for (let index = 0; index < runs; index++) {
    const { result, peak } = await peakConnectionsDuring(installation, () =>
      checked(run(process.execPath, [CLI, 'migrate', '--json'], env()), 'db:migrate (nothing pending)'),
    );
    const report = JSON.parse(result.stdout) as { migrations: { nothingToDo: boolean } };
    if (!report.migrations.nothingToDo) throw new Error('expected nothing to do');
    idle.push(result.seconds);
    idlePeak = Math.max(idlePeak, peak);
  }

  log(`  db:migrate with one new tenant migration (${runs} runs)`);
  const extraDir = join(installation.directory, 'extra-migrations');
  const applied: number[] = [];
  let appliedPeak = 0;
  for (let index = 0; index < runs; index++) {
    rmSync(extraDir, { recursive: true, force: true });
    mkdirSync(join(extraDir, 'tenant'), { recursive: true });
    // Every migration so far stays in the folder, as shipped migrations do; the newest is the pending one.
    for (let version = 0; version <= index; version++) {
      const name = `BenchAddColumn${1767225600000 + version}`;
      writeFileSync(
        join(extraDir, 'tenant', `${String(version).padStart(3, '0')}.js`),
        `class ${name} { constructor() { this.name = '${name}'; } async up(q) { await q.query('ALTER TABLE clients ADD COLUMN IF NOT EXISTS bench_${version} integer'); } async down(q) { await q.query('ALTER TABLE clients DROP COLUMN bench_${version}'); } }\nmodule.exports = { ${name} };\n`,
      );
    }
    const { result, peak } = await peakConnectionsDuring(installation, () =>
      checked(
        run(process.execPath, [CLI, 'migrate', '--json'], env({ MIGRATIONS_EXTRA_DIR: extraDir })),
        'db:migrate (one new migration)',
      ),
    );
    const report = JSON.parse(result.stdout) as { migrations: { migrated: number } };
    if (report.migrations.migrated !== tenants)
      throw new Error(`expected ${tenants} migrated, got ${report.migrations.migrated}`);
    applied.push(result.seconds);
    appliedPeak = Math.max(appliedPeak, peak);
  }
  return {
    tenants,
    maxDataSources,
    nothingPending: { seconds: figure(idle), peakTenantConnections: idlePeak },
    oneNewMigration: { seconds: figure(applied), peakTenantConnections: appliedPeak },
  };
}
