import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { REVERSE_APPLICATION, ReverseLink, ReverseSyncState, XidPoint } from '../online/reverse-sync-names';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { Key, recentRowsSql, RecentSum, TableSide } from './recent-rows-sql';

/** Sessions per database for the comparison: the pause is spent scanning, and the machine has few cores. */
const VERIFY_SESSIONS = 4;

export type MonolithVerification = { tablesVerified: number; incremental: number; full: number };

type Task = {
  link: ReverseLink;
  table: ReverseLink['tables'][number];
  /** Key columns (legacy ones) when the table can be compared incrementally; null: full comparison. */
  key: Key | null;
  /** The new database's table size, to start with the largest. */
  pages: number;
};

type FullSum = { rows: string; sum: string };

const fullSql = (table: string, columns: string[]): string =>
  `SELECT count(*)::text AS rows, coalesce(sum(hashtextextended(ROW(${columns
    .map((column) => `t.${quoteIdentifier(column)}`)
    .join(', ')})::text, 0)), 0)::text AS sum FROM ${quoteQualified('public', table)} t`;

const locationOf = (link: ReverseLink): DatabaseLocation => ({
  database: link.database,
  host: link.host,
  port: link.port,
});

/**
 * Every published table, monolith against new database, over the legacy columns. Since the sync
 * started, the monolith is written only by the subscriptions, and a row never changed since keeps
 * its old xmin on both sides. So a table with a key is compared in one pass per side: the
 * count and a checksum of the keys of all rows, and the count and checksum of the whole rows whose
 * xmin is younger than the recorded horizon. Equal counts and key checksums mean the same keys; the
 * rows changed since are compared in full; the others are the rows the cutover verified, untouched.
 * A table that a vacuum may have frozen since (a frozen xmin reads as old), a renamed table the
 * rollback itself rewrote, a keyless one, and any table of an older state are compared in
 * full; an incremental difference is confirmed by a full comparison before it is reported.
 */
export async function verifyMonolith(
  connections: PostgresConnectionFactory,
  monolith: DatabaseLocation,
  state: ReverseSyncState,
): Promise<MonolithVerification> {
  const tasks: Task[] = [];
  for (const link of state.links) {
    const { keys, pages } = await connections.withClient(
      locationOf(link),
      (client) => tableFacts(client, link),
      { applicationName: REVERSE_APPLICATION, readOnly: true },
    );
    for (const table of link.tables)
      tasks.push({
        link,
        table,
        key: state.monolithSince && link.since ? (keys.get(table.target) ?? null) : null,
        pages: pages.get(table.target) ?? 0,
      });
  }
  // Largest first: the pause ends with the last table, which should then be a small one.
  tasks.sort((a, b) => b.pages - a.pages);
  const mismatches: string[] = [];
  let incremental = 0;
  const queue = [...tasks];
  const workers = Array.from({ length: Math.min(VERIFY_SESSIONS, queue.length) }, async (_, index) => {
    const sessions = new Sessions(connections);
    try {
      // A worker past the first that cannot connect (connections used up) leaves its share to the others.
      const connected = await sessions.get(monolith).then(
        () => true,
        (error: unknown) => {
          if (index === 0) throw error;
          return false;
        },
      );
      for (let task = connected ? queue.shift() : undefined; task; task = queue.shift()) {
        const outcome = await compare(sessions, monolith, state.monolithSince, task);
        if (outcome.incremental) incremental++;
        if (outcome.mismatch) mismatches.push(outcome.mismatch);
      }
    } catch (error) {
      // The rollback stops on this error: the other workers take no further table.
      queue.length = 0;
      throw error;
    } finally {
      await sessions.end();
    }
  });
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  if (mismatches.length > 0)
    throw new RollbackException(
      RollbackExceptionCode.ReverseSyncBehind,
      `the monolith differs from the new databases after the drain: ${mismatches.join('; ')}`,
    );
  return { tablesVerified: tasks.length, incremental, full: tasks.length - incremental };
}

/** One worker's sessions, opened on first use: the monolith and each new database it compares. */
class Sessions {
  readonly #open = new Map<string, Promise<Client>>();
  constructor(private readonly connections: PostgresConnectionFactory) {}

  get(location: DatabaseLocation): Promise<Client> {
    const name = `${location.host ?? ''}:${location.port ?? ''}/${location.database}`;
    let session = this.#open.get(name);
    if (!session) {
      session = this.connections
        .connect(location, { applicationName: REVERSE_APPLICATION, readOnly: true })
        .then(async (client) => {
          await client.query(DETERMINISTIC_SESSION_SETTINGS);
          return client;
        });
      this.#open.set(name, session);
    }
    return session;
  }

  async end(): Promise<void> {
    await Promise.all(
      [...this.#open.values()].map((session) =>
        session.then((client) => client.end()).catch(() => undefined),
      ),
    );
  }
}

async function compare(
  sessions: Sessions,
  monolith: DatabaseLocation,
  monolithSince: XidPoint | undefined,
  { link, table, key }: Task,
): Promise<{ incremental: boolean; mismatch: string | null }> {
  const [there, here] = await Promise.all([sessions.get(locationOf(link)), sessions.get(monolith)]);
  if (key && link.since && monolithSince) {
    const sides: [Client, TableSide][] = [
      [there, { table: table.target, columns: table.columns, key, since: link.since }],
      [here, { table: table.source, columns: table.columns, key, since: monolithSince }],
    ];
    const sums = await Promise.all(sides.map(([client, side]) => recentSum(client, side)));
    if (sums.every((sum) => sum !== null)) {
      const [a, b] = sums;
      if (a.rows === b.rows && a.keys === b.keys && a.recent === b.recent && a.recentSum === b.recentSum)
        return { incremental: true, mismatch: null };
    }
  }
  const [a, b] = await Promise.all([
    there.query<FullSum>(fullSql(table.target, table.columns)),
    here.query<FullSum>(fullSql(table.source, table.columns)),
  ]);
  const [thereSum, hereSum] = [a.rows[0], b.rows[0]];
  if (thereSum.rows === hereSum.rows && thereSum.sum === hereSum.sum)
    return { incremental: false, mismatch: null };
  return {
    incremental: false,
    mismatch: `${table.source} (${hereSum.rows} rows in the monolith, ${thereSum.rows} in ${link.database}${
      hereSum.rows === thereSum.rows ? ', content differs' : ''
    })`,
  };
}

/**
 * The side's sums, or null when the horizon is too far back for a 32-bit age (then compare in full).
 * A vacuum does not hide a young row: freezing keeps the raw xmin (PostgreSQL 9.4 and later), which
 * is what the xmin column and age() read.
 */
async function recentSum(client: Client, side: TableSide): Promise<RecentSum | null> {
  const [sum] = (await client.query<RecentSum>(recentRowsSql(side), [side.since.xid])).rows;
  return sum.window === null ? null : sum;
}

/**
 * Per published table of the new database: its size in pages, and its primary key when every key
 * column flows back (a key that includes societe_id does not) and the table is not renamed (the
 * rollback rewrote the monolith's side).
 */
async function tableFacts(
  client: Client,
  link: ReverseLink,
): Promise<{ keys: Map<string, Key>; pages: Map<string, number> }> {
  const { rows } = await client.query<{
    table: string;
    pages: number;
    key: string[] | null;
    types: string[];
  }>(
    `SELECT c.relname AS table, c.relpages AS pages,
            (SELECT array_agg(format_type(a.atttypid, NULL) ORDER BY k.ord)
             FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary) AS types,
            (SELECT array_agg(a.attname::text ORDER BY k.ord)
             FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary) AS key
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
     WHERE c.relname = ANY($1) AND c.relkind IN ('r', 'p')`,
    [link.tables.map((table) => table.target)],
  );
  const keys = new Map<string, Key>();
  const pages = new Map<string, number>();
  for (const row of rows) {
    pages.set(row.table, row.pages);
    const table = link.tables.find((candidate) => candidate.target === row.table);
    if (!table || !row.key || table.target !== table.source) continue;
    if (row.key.every((column) => table.columns.includes(column)))
      keys.set(row.table, { columns: row.key, types: row.types });
  }
  return { keys, pages };
}
