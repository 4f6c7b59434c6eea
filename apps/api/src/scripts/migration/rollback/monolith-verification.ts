import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { ReverseLink, ReverseSyncState, XidPoint } from '../online/reverse-sync-names';
import { RollbackException, RollbackExceptionCode } from './rollback.exception';
import { Key, recentRowsSql, RecentSum, TableSide } from './recent-rows-sql';
import { SessionPool } from './session-pool';

/** Sessions per database for the comparison: the pause is spent scanning, and the machine has few cores. */
const VERIFY_SESSIONS = 4;

export type MonolithVerification = { tablesVerified: number; incremental: number; full: number };

type Table = ReverseLink['tables'][number];

type Task = {
  link: ReverseLink;
  table: Table;
  /** Key columns (legacy ones) when the table can be compared incrementally; null: full comparison. */
  key: Key | null;
  /** The new database's table size, to start with the largest. */
  pages: number;
  /** The new database's side, started as soon as writes there are blocked. */
  there?: Promise<Sum>;
  /** The monolith's side, started once it has drained (a levelled table once it is level). */
  here?: Promise<Sum>;
};

type FullSum = { rows: string; sum: string };
/** A side's figures: incremental ones, full ones, or null when the horizon is too far back (then in full). */
type Sum = { recent: RecentSum } | { full: FullSum } | null;

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
 * A table whose horizon is past 2^31 transactions, a renamed table the rollback itself rewrote, a
 * keyless one, and any table of an older state are compared in full; an incremental difference is
 * confirmed by a full comparison before it is reported.
 *
 * The sessions open before the write pause (`prepare`); each new database's side is read once
 * writes there are blocked (`startNewSide`: nothing changes there afterwards, so it runs while the
 * monolith drains), the monolith's once it has drained (`finish`). Every figure is still read
 * inside the pause, from the state the comparison is about.
 */
export class MonolithVerifier {
  private constructor(
    private readonly tasks: Task[],
    private readonly pools: Map<string, SessionPool>,
    private readonly monolith: SessionPool,
    private readonly monolithSince: XidPoint | undefined,
  ) {}

  static async prepare(
    connections: PostgresConnectionFactory,
    monolith: DatabaseLocation,
    state: ReverseSyncState,
  ): Promise<MonolithVerifier> {
    const pools = new Map<string, SessionPool>();
    try {
      const here = await SessionPool.open(connections, monolith, VERIFY_SESSIONS);
      pools.set('', here);
      const tasks: Task[] = [];
      for (const link of state.links) {
        const pool = await SessionPool.open(connections, locationOf(link), VERIFY_SESSIONS);
        pools.set(link.database, pool);
        const { keys, pages } = await pool.run((client) => tableFacts(client, link));
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
      pools.delete('');
      return new MonolithVerifier(tasks, pools, here, state.monolithSince);
    } catch (error) {
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      throw error;
    }
  }

  /** This verification's sessions on a new database: blocking writes there must not end them. */
  pidsOn(database: string): number[] {
    return this.pools.get(database)?.pids ?? [];
  }

  /** Once writes on the new databases are blocked and their sessions ended: their side is final. */
  startNewSide(): void {
    for (const task of this.tasks) {
      const { link, table, key } = task;
      const side =
        key && link.since ? { table: table.target, columns: table.columns, key, since: link.since } : null;
      task.there = this.poolOf(link).run((client) => sideSum(client, side, table.target, table.columns));
      // Awaited in finish(); a drain that fails first must not leave it an unhandled rejection.
      task.there.catch(() => undefined);
    }
  }

  /** Once a link has drained: the monolith's side of its tables, but for those still to be brought level. */
  startMonolithSide(database: string, toLevel: string[]): void {
    for (const task of this.tasks)
      if (task.link.database === database && !toLevel.includes(task.table.source)) this.startHere(task);
  }

  /** Once the monolith is level: the rest of its side, the comparison, and a full one where needed. */
  async finish(): Promise<MonolithVerification> {
    for (const task of this.tasks) this.startHere(task);
    const compared = this.tasks.map(async (task) => {
      const { table } = task;
      const [there, here] = await Promise.all([task.there as Promise<Sum>, task.here as Promise<Sum>]);
      if (there && here && 'recent' in there && 'recent' in here && sameRecent(there.recent, here.recent))
        return { incremental: true, mismatch: null };
      // Keyless tables were read in full already; anything else is read again in full on both sides.
      const [a, b] =
        there && here && 'full' in there && 'full' in here
          ? [there.full, here.full]
          : await Promise.all([
              this.poolOf(task.link).run((client) => full(client, table.target, table.columns)),
              this.monolith.run((client) => full(client, table.source, table.columns)),
            ]);
      return {
        incremental: false,
        mismatch: a.rows === b.rows && a.sum === b.sum ? null : describe(task, a, b),
      };
    });
    const settled = await Promise.allSettled(compared);
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    const outcomes = settled.map(
      (result) => (result as PromiseFulfilledResult<{ incremental: boolean; mismatch: string | null }>).value,
    );
    const mismatches = outcomes.flatMap((outcome) => (outcome.mismatch ? [outcome.mismatch] : []));
    if (mismatches.length > 0)
      throw new RollbackException(
        RollbackExceptionCode.ReverseSyncBehind,
        `the monolith differs from the new databases after the drain: ${mismatches.join('; ')}`,
      );
    const incremental = outcomes.filter((outcome) => outcome.incremental).length;
    return { tablesVerified: this.tasks.length, incremental, full: this.tasks.length - incremental };
  }

  async end(): Promise<void> {
    await Promise.all([this.monolith, ...this.pools.values()].map((pool) => pool.end()));
  }

  private startHere(task: Task): void {
    if (task.here) return;
    const { table, key } = task;
    const since = this.monolithSince;
    const side = key && since ? { table: table.source, columns: table.columns, key, since } : null;
    task.here = this.monolith.run((client) => sideSum(client, side, table.source, table.columns));
    // Awaited in finish(); a levelling that fails first must not leave it an unhandled rejection.
    task.here.catch(() => undefined);
  }

  private poolOf(link: ReverseLink): SessionPool {
    return this.pools.get(link.database) as SessionPool;
  }
}

const sameRecent = (a: RecentSum, b: RecentSum): boolean =>
  a.rows === b.rows && a.keys === b.keys && a.recent === b.recent && a.recentSum === b.recentSum;

const describe = ({ link, table }: Task, there: FullSum, here: FullSum): string =>
  `${table.source} (${here.rows} rows in the monolith, ${there.rows} in ${link.database}${
    here.rows === there.rows ? ', content differs' : ''
  })`;

async function full(client: Client, table: string, columns: string[]): Promise<FullSum> {
  return (await client.query<FullSum>(fullSql(table, columns))).rows[0];
}

/** The incremental figures when the table has a key and a horizon, the full ones otherwise. */
async function sideSum(
  client: Client,
  side: TableSide | null,
  table: string,
  columns: string[],
): Promise<Sum> {
  if (!side) return { full: await full(client, table, columns) };
  const recent = await recentSum(client, side);
  return recent && { recent };
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
