import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { JournalRepository } from '../../../modules/database/journal/journal.repository';
import { DeferredConstraint } from '../../../modules/database/journal/journal.types';
import { MigrationException, MigrationExceptionCode } from '../migration.exception';

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
  // One transaction: one commit for the database's keys, and a crash drops all of them or none.
  await inTransaction(target, async () => {
    for (const constraint of constraints) {
      await target.query(
        `ALTER TABLE ${quoteQualified('public', constraint.tableName)} DROP CONSTRAINT IF EXISTS ${quoteIdentifier(constraint.constraintName)}`,
      );
    }
  });
  return constraints.length;
}

async function inTransaction(client: Client, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
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
  const sizes = await tableSizes(first);
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
  // NOT VALID takes brief locks (all added in one transaction, one commit); the validations then
  // run side by side without blocking each other.
  await inTransaction(first, async () => {
    for (const constraint of missing) {
      await first.query(
        `ALTER TABLE ${quoteQualified('public', constraint.tableName)} ADD CONSTRAINT ${quoteIdentifier(constraint.constraintName)} ` +
          `${constraint.definition} NOT VALID`,
      );
    }
  });
  // Largest tables first: a validation reads its whole table, and a long one started last would
  // run alone at the end while the other sessions have nothing left.
  const toValidate = [
    ...missing.map((constraint) => ({ table: constraint.tableName, name: constraint.constraintName })),
    ...existing.rows.filter((row) => !row.validated).map((row) => ({ table: row.table, name: row.name })),
  ].sort((left, right) => (sizes.get(right.table) ?? 0) - (sizes.get(left.table) ?? 0));
  let next = 0;
  await Promise.all(
    sessions.map(async (session) => {
      while (next < toValidate.length) {
        const constraint = toValidate[next++];
        try {
          await session.query(
            `ALTER TABLE ${quoteQualified('public', constraint.table)} VALIDATE CONSTRAINT ${quoteIdentifier(constraint.name)}`,
          );
        } catch (error) {
          if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
          throw await violationOf(session, database, constraint, error);
        }
      }
    }),
  );
  await journal.forgetDeferredConstraints(database);
  return toValidate.length;
}

const FOREIGN_KEY_VIOLATION = '23503';

/** Bytes of each table of the public schema, by name. */
async function tableSizes(session: Client): Promise<Map<string, number>> {
  const result = await session.query<{ table: string; bytes: string }>(
    `SELECT c.relname AS table, pg_relation_size(c.oid)::text AS bytes FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'`,
  );
  return new Map(result.rows.map((row) => [row.table, Number(row.bytes)]));
}

/**
 * Names the rows behind a failed validation: how many rows of the table reference a missing parent
 * (MATCH SIMPLE: a row with a NULL in the key is exempt) and a few of their keys, so the operator can
 * find them in the monolith, which holds the very same rows.
 */
async function violationOf(
  session: Client,
  database: string,
  constraint: { table: string; name: string },
  cause: unknown,
): Promise<MigrationException> {
  const shape = await session.query<{ parent: string; columns: string[]; parentColumns: string[] }>(
    `SELECT p.relname AS parent,
            array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i) AS columns,
            array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                  JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i) AS "parentColumns"
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relname = $1 AND k.conname = $2`,
    [constraint.table, constraint.name],
  );
  const [key] = shape.rows;
  let detail = '';
  if (key) {
    const child = key.columns.map((column) => `c.${quoteIdentifier(column)}`);
    const matches = key.columns
      .map((column, index) => `p.${quoteIdentifier(key.parentColumns[index])} = c.${quoteIdentifier(column)}`)
      .join(' AND ');
    const orphanRows = `FROM ${quoteQualified('public', constraint.table)} c
       WHERE ${child.map((column) => `${column} IS NOT NULL`).join(' AND ')}
         AND NOT EXISTS (SELECT 1 FROM ${quoteQualified('public', key.parent)} p WHERE ${matches})`;
    // Distinct keys among the first 100 orphans only: the sample never reads (or sorts) them all.
    const orphans = await session.query<{ rows: string; samples: string[] }>(
      `SELECT count(*) AS rows,
              ARRAY(SELECT DISTINCT keys FROM (SELECT concat_ws(', ', ${child.join(', ')}) AS keys ${orphanRows} LIMIT 100) AS first
                    ORDER BY keys LIMIT 3) AS samples
       ${orphanRows}`,
    );
    const [found] = orphans.rows;
    detail = `: ${found.rows} row(s) of ${constraint.table} whose ${key.columns.join(', ')} match no ${key.parent} row (e.g. ${found.samples.join('; ')})`;
  }
  return new MigrationException(
    MigrationExceptionCode.ForeignKeyViolated,
    `foreign key ${constraint.name} cannot be validated in ${database}${detail}; the monolith holds the same rows`,
    { database, table: constraint.table, constraint: constraint.name },
    { cause },
  );
}
