import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupManifest } from '../../src/scripts/migration/backup/backup-manifest';
import { RollbackValidation } from '../../src/scripts/migration/rollback-migration';
import { parseJson, runCli } from '../../../../test/harness/cli';
import { databaseContent } from '../../../../test/harness/independent-checksums';
import { TestEnvironment } from '../../../../test/harness/test-environment';
import { RollbackDocument, splitEnvironment } from './split-environment';

async function validate(environment: TestEnvironment): Promise<RollbackValidation> {
  const result = await runCli(['rollback', '--validate', '--json'], environment.env());
  expect(result.code).toBe(0);
  return parseJson<RollbackDocument>(result).validation;
}

const monolithCheck = (validation: RollbackValidation) =>
  validation.checks.find((check) => check.id === 'monolith')?.detail ?? '';

const foreignKey = async (environment: TestEnvironment) =>
  environment.query<{ definition: string }>(
    environment.names.monolith,
    "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'FK_ligne_devis_devis'",
  );

const sequenceState = async (environment: TestEnvironment) =>
  (
    await environment.query<{ last_value: string; is_called: boolean }>(
      environment.names.monolith,
      'SELECT last_value, is_called FROM migrations_id_seq',
    )
  )[0];

/** A change of structure that leaves every row as it was must still make the rollback restore. */
describe('db:rollback when the monolith changed structure but not rows', () => {
  it('restores a monolith that lost a foreign key, naming the constraint, and the constraint is back', async () => {
    const environment = await splitEnvironment('rbschemafk');
    try {
      const before = await databaseContent(environment, environment.names.monolith);
      const definition = await foreignKey(environment);
      expect(definition).toHaveLength(1);
      await environment.query(
        environment.names.monolith,
        'ALTER TABLE ligne_devis DROP CONSTRAINT "FK_ligne_devis_devis"',
      );

      const validation = await validate(environment);
      expect(validation.restore).toMatchObject({ needed: true, differences: [], schemaCompared: true });
      expect(validation.restore.schemaDifferences).toEqual([
        expect.objectContaining({
          object: 'constraint public.ligne_devis.FK_ligne_devis_devis',
          change: 'missing',
        }),
      ]);
      expect(monolithCheck(validation)).toContain(
        'constraint public.ligne_devis.FK_ligne_devis_devis missing',
      );

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      expect(parseJson<RollbackDocument>(result).rollback).toMatchObject({ restored: true });
      expect(await foreignKey(environment)).toEqual(definition);
      expect(await databaseContent(environment, environment.names.monolith)).toEqual(before);
    } finally {
      await environment.cleanup();
    }
  });

  it('restores a monolith whose sequence was set back, and the sequence stands where the backup left it', async () => {
    const environment = await splitEnvironment('rbschemaseq');
    try {
      const atBackup = await sequenceState(environment);
      await environment.query(environment.names.monolith, "SELECT setval('migrations_id_seq', 1, false)");

      const validation = await validate(environment);
      expect(validation.restore).toMatchObject({ needed: true, differences: [] });
      expect(validation.restore.schemaDifferences).toEqual([
        expect.objectContaining({ object: 'sequence public.migrations_id_seq', change: 'went back' }),
      ]);
      expect(monolithCheck(validation)).toContain(
        `sequence public.migrations_id_seq went back from ${atBackup.last_value} to 1`,
      );

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      expect(parseJson<RollbackDocument>(result).rollback).toMatchObject({ restored: true });
      expect(await sequenceState(environment)).toEqual(atBackup);
    } finally {
      await environment.cleanup();
    }
  });

  it('does not restore for a sequence that only advanced (nextval in a rolled-back transaction)', async () => {
    const environment = await splitEnvironment('rbschemanext');
    try {
      await environment.query(
        environment.names.monolith,
        "BEGIN; SELECT nextval('migrations_id_seq'); ROLLBACK",
      );
      const advanced = await sequenceState(environment);

      const validation = await validate(environment);
      expect(validation.restore).toMatchObject({
        needed: false,
        differences: [],
        schemaDifferences: [],
        schemaCompared: true,
      });
      // The sequence's advance is no change: the structure matches, and no row was written since the dump.
      expect(validation.restore.comparison).toBe('no-write-since-dump');
      expect(monolithCheck(validation)).toContain(
        'matches the backup (same structure and row counts, no row written since its dump)',
      );

      const result = await runCli(['rollback', '--yes', '--json'], environment.env());
      expect(result.code).toBe(0);
      expect(parseJson<RollbackDocument>(result).rollback).toMatchObject({ restored: false });
      expect(await sequenceState(environment)).toEqual(advanced);
    } finally {
      await environment.cleanup();
    }
  });

  it('reads a manifest written before schema fingerprints: only rows decide, and it says so', async () => {
    const environment = await splitEnvironment('rbschemaold');
    try {
      const { backup } = await validate(environment);
      const manifestPath = join(backup?.path as string, 'manifest.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
      writeFileSync(
        manifestPath,
        JSON.stringify({
          ...manifest,
          databases: manifest.databases.map((entry) => ({ ...entry, schema: undefined })),
        }),
      );
      await environment.query(
        environment.names.monolith,
        'ALTER TABLE ligne_devis DROP CONSTRAINT "FK_ligne_devis_devis"',
      );

      const validation = await validate(environment);
      expect(validation.restore).toMatchObject({ needed: false, schemaCompared: false });
      expect(validation.checks.find((check) => check.id === 'monolith-structure')?.detail).toContain(
        'only row counts and checksums decide',
      );
    } finally {
      await environment.cleanup();
    }
  });
});
