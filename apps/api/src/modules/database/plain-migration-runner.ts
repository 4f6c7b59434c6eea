import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationClass } from '../../database/migrations/migration-sets';

/** TypeORM's bookkeeping table in every new database (each database has its own). */
export const MIGRATIONS_TABLE = 'migrations';

/**
 * The table exactly as TypeORM creates it, primary key name included (its default naming strategy:
 * "PK_" and the first 27 hex digits of sha1("migrations_id")), so TypeORM and this runner read and
 * extend each other's bookkeeping.
 */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS public.${MIGRATIONS_TABLE} (
  "id" SERIAL NOT NULL, "timestamp" bigint NOT NULL, "name" character varying NOT NULL,
  CONSTRAINT "PK_${createHash('sha1').update(`${MIGRATIONS_TABLE}_id`).digest('hex').slice(0, 27)}" PRIMARY KEY ("id"))`;

export type PlainMigration = { name: string; timestamp: number; instance: MigrationInterface };

/**
 * The migrations of one database, ready for runPlainMigrations, when every one is a plain-SQL migration of the tool itself: what
 * TypeORM's `runMigrations({ transaction: 'all' })` does (pending ones in timestamp order, all in
 * one transaction, each recorded as it is applied), over the caller's `pg` session. Loading TypeORM
 * and opening its DataSource cost more than the migrations of a new database (see
 * docs/benchmarks.md). Null when a migration needs more than `queryRunner.query` could give it
 * (its own transaction mode, or an operator's one from MIGRATIONS_EXTRA_DIR): TypeORM runs those.
 */
export function plainMigrations(
  migrations: MigrationClass[],
  builtIn: ReadonlySet<MigrationClass>,
): PlainMigration[] | null {
  if (migrations.some((migration) => !builtIn.has(migration))) return null;
  const all = migrations.map((migration): PlainMigration => {
    const instance = new migration();
    const name = instance.name ?? migration.name;
    return { name, timestamp: Number.parseInt(name.slice(-13), 10), instance };
  });
  return all.some((migration) => migration.instance.transaction !== undefined || !migration.timestamp)
    ? null
    : all;
}

/** Applies the pending ones of `all` (from plainMigrations) over `client`; their names, in order. */
export async function runPlainMigrations(client: Client, all: PlainMigration[]): Promise<string[]> {
  await client.query(CREATE_TABLE);
  const applied = await client.query<{ name: string }>(`SELECT name FROM public.${MIGRATIONS_TABLE}`);
  const done = new Set(applied.rows.map((row) => row.name));
  const pending = all
    .filter((migration) => !done.has(migration.name))
    .sort((one, other) => one.timestamp - other.timestamp);
  if (pending.length === 0) return [];
  // What the migrations use of TypeORM's QueryRunner: query(), answering rows as TypeORM does.
  const runner = {
    query: async (sql: string, parameters?: unknown[]): Promise<unknown[]> =>
      (await client.query(sql, parameters)).rows as unknown[],
  } as Pick<QueryRunner, 'query'> as QueryRunner;
  await client.query('BEGIN');
  try {
    for (const migration of pending) {
      await migration.instance.up(runner);
      await client.query(`INSERT INTO public.${MIGRATIONS_TABLE} ("timestamp", "name") VALUES ($1, $2)`, [
        migration.timestamp,
        migration.name,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return pending.map((migration) => migration.name);
}
