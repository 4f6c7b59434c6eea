import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationInterface } from 'typeorm';
import { CreateAuthTables1751328000001 } from './auth/001-CreateAuthTables';
import { AddSocieteServer1751328000004 } from './auth/002-AddSocieteServer';
import { AddSocieteMoving1751328000016 } from './auth/003-AddSocieteMoving';
import { CreateSharedTables1751328000002 } from './shared/001-CreateSharedTables';
import { CreateTenantTables1751328000003 } from './tenant/001-CreateTenantTables';

export type SchemaKind = 'auth' | 'shared' | 'tenant';
export const SCHEMA_KINDS: readonly SchemaKind[] = ['auth', 'shared', 'tenant'];

export type MigrationClass = new () => MigrationInterface;

/** The migrations shipped with the tool, in order. A new migration is appended to its kind's list. */
const BUILT_IN: Record<SchemaKind, MigrationClass[]> = {
  auth: [CreateAuthTables1751328000001, AddSocieteServer1751328000004, AddSocieteMoving1751328000016],
  shared: [CreateSharedTables1751328000002],
  tenant: [CreateTenantTables1751328000003],
};

/** The tool's own migrations: plain SQL through `queryRunner.query`, nothing else of TypeORM. */
export const BUILT_IN_MIGRATIONS: ReadonlySet<MigrationClass> = new Set(Object.values(BUILT_IN).flat());

/**
 * Migrations of one kind: the built-in ones, then any compiled migration found in
 * `<MIGRATIONS_EXTRA_DIR>/<kind>/*.js` (like Flyway's extra locations), so an operator can ship a
 * hotfix migration without rebuilding the tool.
 */
export function migrationsFor(kind: SchemaKind, extraDirectory?: string): MigrationClass[] {
  const migrations = [...BUILT_IN[kind]];
  const folder = extraDirectory ? join(extraDirectory, kind) : undefined;
  if (folder && existsSync(folder)) {
    for (const file of readdirSync(folder)
      .filter((name) => /\.(c?js)$/.test(name))
      .sort()) {
      const exported = require(join(folder, file)) as Record<string, unknown>;
      for (const value of Object.values(exported)) {
        if (
          typeof value === 'function' &&
          typeof (value.prototype as MigrationInterface | undefined)?.up === 'function'
        ) {
          migrations.push(value as MigrationClass);
        }
      }
    }
  }
  return migrations;
}

export function migrationName(migration: MigrationClass): string {
  return new migration().name ?? migration.name;
}
