import { Client, DatabaseError } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { PostgresConnectionFactory } from '../../../modules/database/postgres-connection.factory';
import { DecodedChange } from './change-applier';
import { decodeMessages, StreamEvent } from './change-stream';
import { lsnAfter } from './lsn';
import { REVERSE_APPLICATION, ReverseLink } from './reverse-sync-names';

/** Why the apply worker stopped; reproduces is false once the failing change would apply now. */
export type ReverseConflict = { description: string; reproduces: boolean };

/** Enough to reach past what the monolith applied but has not confirmed yet. */
const PEEK_LIMIT = 20000;

type PendingTransaction = { commitLsn: string; changes: DecodedChange[] };

/**
 * Why a subscription's apply worker stopped, found without the server log (often out of reach):
 * the first transaction of the new database that the monolith has not applied is read from the
 * slot (peeked: nothing is consumed; possible only while the subscription is down) and tried in
 * the monolith inside a transaction that is rolled back, as the apply worker would (replica role:
 * no triggers, no foreign keys). Returns PostgreSQL's own error, with the table and the key, or a
 * sentence saying the conflict no longer reproduces; null when the slot cannot be read.
 */
export async function findReverseConflict(
  connections: PostgresConnectionFactory,
  monolith: Client,
  link: ReverseLink,
): Promise<ReverseConflict | null> {
  const [origin] = (
    await monolith.query<{ lsn: string | null }>(
      `SELECT o.remote_lsn::text AS lsn FROM pg_subscription s
       LEFT JOIN pg_replication_origin_status o ON o.external_id = 'pg_' || s.oid
       WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [link.subscription],
    )
  ).rows;
  if (!origin) return null;
  const events = await peekEvents(connections, link);
  if (!events) return null;
  const pending = firstPending(events, origin.lsn);
  if (!pending)
    return {
      description: `no change of ${link.database} is waiting: the conflict no longer reproduces`,
      reproduces: false,
    };
  const failure = await replay(monolith, pending);
  return failure
    ? { description: failure, reproduces: true }
    : {
        description: `the transaction of ${link.database} committed at ${pending.commitLsn} now applies cleanly: the conflict was resolved`,
        reproduces: false,
      };
}

/**
 * The slot's pending changes, decoded. Right after a subscription is disabled its WAL sender may
 * still hold the slot for a moment ("is active for PID"): tried again for a few seconds.
 */
async function peekEvents(
  connections: PostgresConnectionFactory,
  link: ReverseLink,
): Promise<StreamEvent[] | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connections.withClient(
        { database: link.database, host: link.host, port: link.port },
        async (client) => {
          const { rows } = await client.query<{ data: Buffer }>(
            `SELECT data FROM pg_logical_slot_peek_binary_changes($1, NULL, $2,
               'proto_version', '1', 'publication_names', $3)`,
            [link.slot, PEEK_LIMIT, link.publication],
          );
          return decodeMessages(
            link.publication,
            rows.map((row) => row.data),
          );
        },
        { applicationName: REVERSE_APPLICATION },
      );
    } catch (error) {
      if (attempt >= 20 || !/is active for PID/i.test(error instanceof Error ? error.message : ''))
        return null;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The first transaction that ends after the monolith's applied position (its replication origin). */
function firstPending(events: StreamEvent[], applied: string | null): PendingTransaction | null {
  let current: PendingTransaction | null = null;
  for (const event of events) {
    if (event.kind === 'begin') current = { commitLsn: event.commitLsn, changes: [] };
    else if (event.kind === 'change' && current) current.changes.push(event.change);
    else if (event.kind === 'commit' && current) {
      if (lsnAfter(event.endLsn, applied) && current.changes.length > 0) return current;
      current = null;
    }
  }
  return null;
}

/** Tries the transaction's inserts and updates in the monolith, rolled back; the first error, described. */
async function replay(monolith: Client, pending: PendingTransaction): Promise<string | null> {
  const begin = async () => {
    await monolith.query('BEGIN READ WRITE');
    // A diagnosis must never wait behind someone else's lock.
    await monolith.query("SET LOCAL lock_timeout = '5s'");
  };
  await begin();
  try {
    // As the apply worker: no user triggers, no foreign-key checks (needs superuser; else stricter).
    await monolith.query('SET LOCAL session_replication_role = replica').catch(async () => {
      await monolith.query('ROLLBACK');
      await begin();
    });
    for (const change of pending.changes) {
      const statement = statementOf(change);
      if (!statement) continue;
      try {
        await monolith.query(statement.text, statement.values);
      } catch (error) {
        const detail = error instanceof DatabaseError && error.detail ? ` (${error.detail})` : '';
        return `${statement.table}: ${error instanceof Error ? error.message : String(error)}${detail}, in the transaction committed at ${pending.commitLsn}`;
      }
    }
    return null;
  } finally {
    await monolith.query('ROLLBACK').catch(() => undefined);
  }
}

type Replayed = { table: string; text: string; values: unknown[] };

/** Only what can conflict in the monolith: a row's insert, or an update's new values (unique keys). */
function statementOf(change: DecodedChange): Replayed | null {
  if (change.kind === 'insert') {
    const names = Object.keys(change.values).filter((name) => change.values[name] !== undefined);
    return {
      table: change.relation.name,
      text: `INSERT INTO ${quoteQualified('public', change.relation.name)} (${names.map(quoteIdentifier).join(', ')})
             VALUES (${names.map((_, index) => `$${index + 1}`).join(', ')})`,
      values: names.map((name) => change.values[name]),
    };
  }
  if (change.kind !== 'update') return null;
  const set = Object.keys(change.values).filter((name) => change.values[name] !== undefined);
  const match = change.key ?? change.old ?? change.values;
  const where = (change.key || change.old ? Object.keys(match) : change.relation.keyColumns).filter(
    (name) => match[name] !== undefined,
  );
  if (set.length === 0 || where.length === 0) return null;
  return {
    table: change.relation.name,
    text: `UPDATE ${quoteQualified('public', change.relation.name)}
           SET ${set.map((name, index) => `${quoteIdentifier(name)} = $${index + 1}`).join(', ')}
           WHERE ${where.map((name, index) => `${quoteIdentifier(name)} IS NOT DISTINCT FROM $${set.length + index + 1}`).join(' AND ')}`,
    values: [...set.map((name) => change.values[name]), ...where.map((name) => match[name])],
  };
}
