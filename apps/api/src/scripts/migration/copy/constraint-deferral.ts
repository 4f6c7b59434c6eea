import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { JournalRepository } from '../journal/journal.repository';
import { DeferredConstraint } from '../journal/journal.types';

/**
 * Foreign keys are set aside while tables load (so a table can be truncated and reloaded alone,
 * and no row is checked one by one), then added back NOT VALID and validated in one pass each.
 * Their definitions are written to the journal before they are dropped: a crash in between loses
 * nothing, and the next run restores them.
 */
export async function deferForeignKeys(
  target: Client,
  database: string,
  journal: JournalRepository,
): Promise<number> {
  const result = await target.query<{ table: string; name: string; definition: string }>(
    `SELECT c.relname AS table, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = 'public' ORDER BY 1, 2`,
  );
  const constraints: DeferredConstraint[] = result.rows.map((row) => ({
    targetDatabase: database,
    tableName: row.table,
    constraintName: row.name,
    definition: row.definition,
  }));
  await journal.saveDeferredConstraints(constraints);
  for (const constraint of constraints) {
    await target.query(
      `ALTER TABLE ${quoteQualified('public', constraint.tableName)} DROP CONSTRAINT IF EXISTS ${quoteIdentifier(constraint.constraintName)}`,
    );
  }
  return constraints.length;
}

/** Adds back every deferred foreign key of a database that is not there already, validating each. */
export async function restoreForeignKeys(
  sessions: Client[],
  database: string,
  journal: JournalRepository,
): Promise<number> {
  const deferred = await journal.deferredConstraints(database);
  const [first] = sessions;
  const existing = await first.query<{ table: string; name: string }>(
    `SELECT c.relname AS table, k.conname AS name FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = 'public'`,
  );
  const present = new Set(existing.rows.map((row) => `${row.table}.${row.name}`));
  const missing = deferred.filter(
    (constraint) => !present.has(`${constraint.tableName}.${constraint.constraintName}`),
  );
  // NOT VALID takes brief locks; the validations then run side by side without blocking each other.
  for (const constraint of missing) {
    await first.query(
      `ALTER TABLE ${quoteQualified('public', constraint.tableName)} ADD CONSTRAINT ${quoteIdentifier(constraint.constraintName)} ${constraint.definition} NOT VALID`,
    );
  }
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < missing.length) {
        const constraint = missing[next++];
        await session.query(
          `ALTER TABLE ${quoteQualified('public', constraint.tableName)} VALIDATE CONSTRAINT ${quoteIdentifier(constraint.constraintName)}`,
        );
      }
    }),
  );
  await journal.forgetDeferredConstraints(database);
  return missing.length;
}
