import { Client } from 'pg';

const SAVEPOINT = 'topsteel_clean_planning';

/**
 * Runs `work` (a statement that evaluates the rules' predicates) in a read-only sub-transaction of
 * the caller's transaction: a predicate that calls a function which writes (INSERT, nextval…)
 * fails with SQLSTATE 25006 instead of changing the database. Writes to temporary tables stay
 * allowed, so the plan can still be stored; the caller's transaction is read-write again after.
 */
export async function readOnlyPlanning<T>(client: Client, work: () => Promise<T>): Promise<T> {
  await client.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    await client.query('SET TRANSACTION READ ONLY');
    const result = await work();
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return result;
  } catch (error) {
    // Undone so that the caller may report the failure; a broken connection fails this too, ignored.
    await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
    await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}`).catch(() => undefined);
    throw error;
  }
}

/** SQLSTATE read_only_sql_transaction: a predicate tried to write. */
export const READ_ONLY_VIOLATION = '25006';
