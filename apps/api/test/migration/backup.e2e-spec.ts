import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupManifest, SchemaFingerprint } from '../../src/scripts/migration/backup/backup-manifest';
import {
  compareSchemas,
  computeSchemaFingerprint,
} from '../../src/scripts/migration/snapshot/schema-fingerprint';
import { parseJson, runCli, runNpmScript } from '../../../../test/harness/cli';
import { fakeToolFolder, restoreInto } from '../../../../test/harness/fake-tools';
import { databaseContent } from '../../../../test/harness/independent-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { testServer } from '../../../../test/harness/test-server';

type BackupDocument = { path: string; manifest: BackupManifest };

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('db:backup', () => {
  const environment = TestEnvironment.create('backup');
  let backup: BackupDocument;

  beforeAll(async () => {
    await environment.createMonolith();
    const result = await runNpmScript('db:backup', ['--json'], environment.env());
    expect(result.code).toBe(0);
    backup = parseJson<BackupDocument>(result);
  });
  afterAll(() => environment.cleanup());

  it('writes a pg_dump custom archive, 0600 in a 0700 folder, with a manifest that describes it', () => {
    const [entry] = backup.manifest.databases;
    const file = join(backup.path, entry.file);
    expect(entry).toMatchObject({
      database: environment.names.monolith,
      role: 'monolith',
      bytes: statSync(file).size,
      sha256: sha256(file),
    });
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('PGDMP');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(backup.path, 'manifest.json')).mode & 0o777).toBe(0o600);
    expect(statSync(backup.path).mode & 0o777).toBe(0o700);
    expect(Object.keys(entry.tables)).toHaveLength(66);
    expect(entry.schema?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.schema?.objects['constraint public.ligne_devis.FK_ligne_devis_devis']?.definition).toContain(
      'FOREIGN KEY (devis_id) REFERENCES public.devis(id)',
    );
    expect(entry.schema?.sequences['public.migrations_id_seq']).toMatchObject({ isCalled: true });
    expect(entry.pgDumpVersion).toMatch(/^\d+\.\d+/);
    expect(
      readdirSync(join(environment.backupDir, 'pre-migration')).filter((name) => name.startsWith('.')),
    ).toEqual([]);
  });

  it('restores into a scratch database with identical per-table content and the manifest row counts', async () => {
    const scratch = `${environment.prefix}_scratch`;
    await restoreInto(environment, join(backup.path, backup.manifest.databases[0].file), scratch);
    const restored = await databaseContent(environment, scratch);
    expect(restored).toEqual(await databaseContent(environment, environment.names.monolith));
    for (const [table, fingerprint] of Object.entries(backup.manifest.databases[0].tables)) {
      expect([table, fingerprint.rows]).toEqual([table, restored[table.replace(/^public\./, '')].rows]);
    }
    // Same structure too, although PostgreSQL prints some CHECK constraints back differently after a restore.
    const client = await environment.client(scratch);
    try {
      const schema = await computeSchemaFingerprint(client);
      const recorded = backup.manifest.databases[0].schema as SchemaFingerprint;
      expect(compareSchemas(recorded, schema, { exactSequences: true })).toEqual([]);
      expect(schema.digest).toBe(recorded.digest);
    } finally {
      await environment.release(client);
    }
  });

  it('passes the password to pg_dump through the environment, never in argv', async () => {
    const logFile = join(environment.root, 'pg-argv.log');
    const result = await runCli(
      ['backup'],
      environment.env({ PG_BIN_DIR: fakeToolFolder(environment.root, { logFile }) }),
    );
    expect(result.code).toBe(0);
    const argv = readFileSync(logFile, 'utf8');
    expect(argv).toMatch(/pg_dump --format=custom --compress=1 --snapshot=\S+ --no-password/);
    expect(argv).not.toContain(testServer().password);
    expect(readFileSync(`${logFile}.env`, 'utf8')).toContain(`PGPASSWORD=${testServer().password}`);
  });

  it('fails clearly and leaves no partial backup when pg_dump fails midway', async () => {
    const before = readdirSync(join(environment.backupDir, 'pre-migration')).sort();
    const result = await runCli(
      ['backup'],
      environment.env({
        PG_BIN_DIR: fakeToolFolder(join(environment.root, 'failing'), { pg_dump: 'fail-after-writing' }),
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('simulated failure');
    expect(readdirSync(join(environment.backupDir, 'pre-migration')).sort()).toEqual(before);
  });

  it('fails with exit 1 when pg_dump is missing, and with exit 2 when BACKUP_DIR cannot be created', async () => {
    const missing = await runCli(['backup', '--json'], environment.env({ PG_BIN_DIR: '/nonexistent/bin' }));
    expect(missing.code).toBe(1);
    expect(parseJson<{ error: { code: string } }>(missing).error.code).toBe('TOOL_MISSING');
    const unwritable = await runCli(['backup'], environment.env({ BACKUP_DIR: '/etc/hostname/backups' }));
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain('BACKUP_DIR');
  });

  it("rollback --validate refuses the split's backup altered by one byte, and truncated", async () => {
    // Validation checks the backup a rollback would use: the one the split's journal names.
    const migrate = await runCli(['migrate', '--json'], environment.env());
    expect(migrate.code).toBe(0);
    const folder = parseJson<{ split: { backup: { path: string } } }>(migrate).split.backup.path;
    expect((await runCli(['rollback', '--validate'], environment.env())).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as BackupManifest;
    const file = join(folder, manifest.databases[0].file);
    const original = readFileSync(file);

    const altered = Buffer.from(original);
    altered[Math.floor(altered.length / 2)] ^= 0xff;
    writeFileSync(file, altered);
    const alteredRun = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(alteredRun.code).toBe(1);
    const alteredCheck = parseJson<{ validation: { checks: { id: string; ok: boolean; detail: string }[] } }>(
      alteredRun,
    ).validation.checks.find((check) => check.id === 'backup');
    expect(alteredCheck?.ok).toBe(false);
    expect(alteredCheck?.detail).toContain('sha256');

    // Truncated, with a manifest made to agree with it: only pg_restore --list can tell.
    writeFileSync(file, original);
    truncateSync(file, Math.floor(original.length / 3));
    writeFileSync(
      join(folder, 'manifest.json'),
      JSON.stringify({ ...manifest, databases: [{ ...manifest.databases[0], sha256: sha256(file) }] }),
    );
    const truncatedRun = await runCli(['rollback', '--validate', '--json'], environment.env());
    expect(truncatedRun.code).toBe(1);
    const truncatedCheck = parseJson<{
      validation: { checks: { id: string; ok: boolean; detail: string }[] };
    }>(truncatedRun).validation.checks.find((check) => check.id === 'backup');
    expect(truncatedCheck?.ok).toBe(false);
    expect(truncatedCheck?.detail).toContain('pg_restore --list');

    writeFileSync(file, original);
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
    expect(existsSync(file)).toBe(true);
  });
});

describe('db:backup under timeouts a DBA set on the monolith', () => {
  const environment = TestEnvironment.create('backup_timeouts');
  beforeAll(() => environment.createMonolith({ scale: 3 }));
  afterAll(() => environment.cleanup());

  it("is not cut short: pg_dump's sessions get the tool's settings too", async () => {
    const monolith = `"${environment.names.monolith}"`;
    // pg_dump's first query runs before pg_dump resets statement_timeout itself. JIT for every
    // statement makes that query outlast 1 ms on any machine, so the test does not depend on speed.
    for (const setting of [
      "statement_timeout = '1ms'",
      'jit_above_cost = 0',
      'jit_optimize_above_cost = 0',
      'jit_inline_above_cost = 0',
    ])
      await environment.query('postgres', `ALTER DATABASE ${monolith} SET ${setting}`);
    try {
      const result = await runNpmScript('db:backup', ['--json'], environment.env());
      expect(result.stderr).not.toMatch(/canceling statement/);
      expect(result.code).toBe(0);
      const [entry] = parseJson<BackupDocument>(result).manifest.databases;
      expect(Object.keys(entry.tables)).toHaveLength(66);
    } finally {
      await environment.query('postgres', `ALTER DATABASE ${monolith} RESET ALL`);
    }
  });
});
