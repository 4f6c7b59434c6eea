import { Client } from 'pg';

/**
 * A transaction as PostgreSQL can be asked about it later: its 64-bit id (never reused, unlike a
 * 32-bit xid) on one server and one database. An id only means something on the server that
 * issued it (`systemIdentifier`) and in the database it changed: a database restored from a dump,
 * or swapped in by db:rollback, has another oid even under the same name.
 */
export type TransactionRecord = { id: string; systemIdentifier: string; databaseOid: number };

/**
 * committed / aborted / in progress: what txid_status says. unknown: PostgreSQL cannot tell
 * (the id is older than the commit log it keeps, or comes from another server or database), or
 * nothing was recorded (archives written before this record existed).
 */
export type TransactionOutcome = 'committed' | 'aborted' | 'in progress' | 'unknown';

/** The running transaction, an id assigned if it had none yet. */
export async function currentTransaction(client: Client): Promise<TransactionRecord> {
  const result = await client.query<{ id: string; system_identifier: string; database_oid: number }>(
    // txid_current/txid_status rather than pg_current_xact_id/pg_xact_status (PostgreSQL 13+): the
    // same 64-bit ids, and the tool supports PostgreSQL 12.
    `SELECT txid_current()::text AS id,
            (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
            (SELECT oid::integer FROM pg_database WHERE datname = current_database()) AS database_oid`,
  );
  const row = result.rows[0];
  return { id: row.id, systemIdentifier: row.system_identifier, databaseOid: row.database_oid };
}

/**
 * What became of `record`. Runs inside the caller's transaction: a savepoint keeps the error
 * PostgreSQL raises for an id "in the future" (a record from another timeline) from aborting it.
 */
export async function transactionOutcome(
  client: Client,
  record: TransactionRecord | undefined,
): Promise<TransactionOutcome> {
  if (!record || !/^\d+$/.test(record.id)) return 'unknown';
  const here = await currentTransaction(client);
  if (here.systemIdentifier !== record.systemIdentifier || here.databaseOid !== record.databaseOid)
    return 'unknown';
  await client.query('SAVEPOINT transaction_outcome');
  try {
    const result = await client.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [
      record.id,
    ]);
    await client.query('RELEASE SAVEPOINT transaction_outcome');
    const status = result.rows[0].status;
    return status === 'committed' || status === 'aborted' || status === 'in progress' ? status : 'unknown';
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT transaction_outcome');
    if ((error as { code?: string }).code === '22023') return 'unknown';
    throw error;
  }
}

/**
 * What became of a transaction whose COMMIT raised, asked on the same session (no transaction is
 * open then, so no savepoint). 'aborted' is certain (a deferred constraint or trigger refused it on a
 * live connection); anything else, a broken connection included, is 'unknown': the server may have
 * committed, and only a later look can tell.
 */
export async function outcomeAfterFailedCommit(
  client: Client,
  record: TransactionRecord,
): Promise<'aborted' | 'committed' | 'unknown'> {
  const status = await client
    .query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [record.id])
    .then((result) => result.rows[0].status)
    .catch(() => null);
  return status === 'aborted' || status === 'committed' ? status : 'unknown';
}
