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
  // A key left NOT VALID by an interrupted run is stored without the marker; restore validates it.
  const constraints: DeferredConstraint[] = result.rows.map((row) => ({
    targetDatabase: database,
    tableName: row.table,
    constraintName: row.name,
    definition: row.definition.replace(/\s+NOT VALID$/, ''),
  }));
  await journal.saveDeferredConstraints(constraints);
  for (const constraint of constraints) {
    await target.query(
      `ALTER TABLE ${quoteQualified('public', constraint.tableName)} DROP CONSTRAINT IF EXISTS ${quoteIdentifier(constraint.constraintName)}`,
    );
  }
  return constraints.length;
}

/** What a stored definition must look like before it is sent back to the server. */
const FOREIGN_KEY_DEFINITION = /^FOREIGN KEY \([^;]*\) REFERENCES [^;]*$/;

/**
 * Adds back every deferred foreign key of a database and validates it. A key that exists but is not
 * validated (a run stopped between ADD ... NOT VALID and VALIDATE, or a validation that failed) is
 * validated now rather than counted as restored; only then is the journal's record dropped.
 */
export async function restoreForeignKeys(
  sessions: Client[],
  database: string,
  journal: JournalRepository,
): Promise<number> {
  const deferred = await journal.deferredConstraints(database);
  const [first] = sessions;
  const existing = await first.query<{ table: string; name: string; validated: boolean }>(
    `SELECT c.relname AS table, k.conname AS name, k.convalidated AS validated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND n.nspname = 'public'`,
  );
  const state = new Map(existing.rows.map((row) => [`${row.table}.${row.name}`, row.validated]));
  const missing = deferred.filter(
    (constraint) => !state.has(`${constraint.tableName}.${constraint.constraintName}`),
  );
  for (const constraint of missing) {
    // The journal is only as trustworthy as AUTH: a definition that is not a plain foreign key is refused.
    if (!FOREIGN_KEY_DEFINITION.test(constraint.definition)) {
      throw new Error(
        `the journal holds an unexpected definition for ${constraint.tableName}.${constraint.constraintName}; refusing to run it`,
      );
    }
  }
  // NOT VALID takes brief locks; the validations then run side by side without blocking each other.
  for (const constraint of missing) {
    await first.query(
      `ALTER TABLE ${quoteQualified('public', constraint.tableName)} ADD CONSTRAINT ${quoteIdentifier(constraint.constraintName)} ${constraint.definition} NOT VALID`,
    );
  }
  const toValidate = [
    ...missing.map((constraint) => ({ table: constraint.tableName, name: constraint.constraintName })),
    ...existing.rows.filter((row) => !row.validated).map((row) => ({ table: row.table, name: row.name })),
  ];
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < toValidate.length) {
        const constraint = toValidate[next++];
        await session.query(
          `ALTER TABLE ${quoteQualified('public', constraint.table)} VALIDATE CONSTRAINT ${quoteIdentifier(constraint.name)}`,
        );
      }
    }),
  );
  await journal.forgetDeferredConstraints(database);
  return toValidate.length;
}
