import { createHash } from 'crypto';
import { Client } from 'pg';
import { Server } from './bench-environment';
import { round } from './measure';

/**
 * A steady write load on real ERP tables, rate-limited like `pgbench -R`: each worker starts its
 * transactions on a fixed schedule (rate / workers per second) and records what every committed
 * transaction wrote, so that the bench can check afterwards that each of them reached the other
 * side. A transaction the server refuses (read-only, session ended during a pause, database gone) is
 * a failure, never a loss: it did not commit.
 */

/** Where a transaction goes: the monolith (one transaction over three tables) or one new database. */
export type LoadTarget = 'monolith' | 'tenant' | 'shared' | 'auth';

/** What committed transactions wrote, by effect: the bench checks each one on the other side. */
export type Ledger = {
  /** clients.numero_client inserted. */
  clients: Set<string>;
  /** tracabilite.id inserted and still expected (not deleted by a later committed transaction). */
  traces: Set<string>;
  /** tracabilite.id deleted by a committed transaction. */
  deletedTraces: Set<string>;
  /** materiaux.code (shared_materials.code in SHARED) inserted. */
  materials: Set<string>;
  /** Last committed value of clients.ville, by client id. */
  clientVille: Map<string, string>;
  /** Last committed value of users.prenom, by user id. */
  userPrenom: Map<string, string>;
};

export type LoadFigures = {
  rateTarget: number;
  seconds: number;
  committed: number;
  refused: number;
  /** Errors other than a refusal (a bug in the load or in the tool): listed, first few messages. */
  unexpected: string[];
  unexpectedCount: number;
  committedPerSecond: number;
  /**
   * Committed per second from the start to the last commit: the rate while the server still took
   * writes (once the cutover or the rollback made it read-only, every try is refused).
   */
  committedPerSecondWhileOpen: number;
};

export type LoadPools = { clientIds: string[]; userIds: string[]; societeId?: string };

type Route = (target: LoadTarget) => { server: Server; database: string };

const REFUSED = /read-only|terminat|connection|does not exist|shutdown|ECONNRESET|ECONNREFUSED|recovery/i;

/** The trace row's key, derived from the transaction's tag so that a later transaction can delete it. */
const traceId = (tag: string): string =>
  createHash('md5')
    .update(tag)
    .digest('hex')
    .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function emptyLedger(): Ledger {
  return {
    clients: new Set(),
    traces: new Set(),
    deletedTraces: new Set(),
    materials: new Set(),
    clientVille: new Map(),
    userPrenom: new Map(),
  };
}

/** The statements of one transaction and what they write when it commits. */
type Transaction = { target: LoadTarget; statements: [string, unknown[]][]; commit(ledger: Ledger): void };

function transaction(
  targets: LoadTarget[],
  tag: (n: number) => string,
  n: number,
  pools: LoadPools,
  worker: { index: number; count: number },
): Transaction {
  const target = targets[n % targets.length];
  const own = (list: string[]) => list.filter((_, index) => index % worker.count === worker.index);
  const clientId = own(pools.clientIds)[n % own(pools.clientIds).length];
  const userId = own(pools.userIds)[n % own(pools.userIds).length];
  const statements: [string, unknown[]][] = [];
  const effects: ((ledger: Ledger) => void)[] = [];
  const me = tag(n);
  if (target === 'monolith' || target === 'tenant') {
    const societe = target === 'tenant' ? 'societe_id, ' : '';
    const extra = target === 'tenant' ? [pools.societeId] : [];
    statements.push(
      [
        `INSERT INTO clients (${societe}nom, email, numero_client, notes) VALUES (${target === 'tenant' ? '$4, ' : ''}'Bench', $1, $2, $3)`,
        [`${me}@bench.test`, me, `load ${n}`, ...extra],
      ],
      ['UPDATE clients SET ville = $1, updated_at = now() WHERE id = $2', [me, clientId]],
      [
        `INSERT INTO tracabilite (${societe}id, entity_type, entity_id, action) VALUES (${target === 'tenant' ? '$4, ' : ''}$1, 'bench', $2, $3)`,
        [traceId(me), clientId, me, ...extra],
      ],
    );
    effects.push((ledger) => ledger.clients.add(me));
    effects.push((ledger) => ledger.clientVille.set(clientId, me));
    effects.push((ledger) => ledger.traces.add(traceId(me)));
    if (Math.floor(n / targets.length) % 3 === 2) {
      // Deletes the trace this worker's previous transaction of this kind inserted (absent if it
      // failed). A leaf table, by key: deleting clients would cascade to children whose client_id the
      // monolith does not index, a sequential scan of each per deleted client (16 tx/s at scale 1000).
      const previous = traceId(tag(n - targets.length));
      statements.push(['DELETE FROM tracabilite WHERE id = $1', [previous]]);
      effects.push((ledger) => {
        if (ledger.traces.delete(previous)) ledger.deletedTraces.add(previous);
      });
    }
  }
  if (target === 'monolith' || target === 'shared') {
    const table = target === 'shared' ? 'shared_materials' : 'materiaux';
    statements.push([`INSERT INTO ${table} (nom, code, densite) VALUES ('Bench', $1, 7.85)`, [me]]);
    effects.push((ledger) => ledger.materials.add(me));
  }
  if (target === 'monolith' || target === 'auth') {
    statements.push(['UPDATE users SET prenom = $1, updated_at = now() WHERE id = $2', [me, userId]]);
    effects.push((ledger) => ledger.userPrenom.set(userId, me));
  }
  return { target, statements, commit: (ledger) => effects.forEach((effect) => effect(ledger)) };
}

/**
 * Starts the load: `workers` connections sharing `rate` transactions per second over `targets`
 * (one after the other). `stop()` waits for the transactions in flight and returns the figures.
 */
export function startWriteLoad(options: {
  route: Route;
  targets: LoadTarget[];
  rate: number;
  workers: number;
  pools: LoadPools;
  label: string;
  ledger: Ledger;
}): { stop(): Promise<LoadFigures> } {
  const { route, targets, rate, workers, pools, label, ledger } = options;
  let running = true;
  const figures = { committed: 0, refused: 0, unexpected: [] as string[] };
  let lastCommitAt = 0;
  let unexpectedCount = 0;
  const started = Date.now();
  const interval = (1000 * workers) / rate;
  const work = async (index: number) => {
    const clients = new Map<LoadTarget, Client>();
    const connect = async (target: LoadTarget) => {
      const existing = clients.get(target);
      if (existing) return existing;
      const { server, database } = route(target);
      const client = new Client({ ...server, database, application_name: 'bench-write-load' });
      client.on('error', () => undefined);
      await client.connect();
      clients.set(target, client);
      return client;
    };
    for (let n = 0; running; n++) {
      // pgbench -R: a fixed schedule; a worker that fell behind (a pause) starts again from now.
      const due = started + (n * workers + index) * (interval / workers);
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      else if (wait < -1000) n += Math.floor(-wait / interval);
      const next = transaction(targets, (k) => `${label}-${index}-${k}`, n, pools, { index, count: workers });
      let client: Client | undefined;
      try {
        client = await connect(next.target);
        await client.query('BEGIN');
        for (const [sql, parameters] of next.statements) await client.query(sql, parameters);
        await client.query('COMMIT');
        next.commit(ledger);
        figures.committed++;
        lastCommitAt = Date.now();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (REFUSED.test(message)) figures.refused++;
        else if (unexpectedCount++ < 5) figures.unexpected.push(message);
        // The session may be gone (ended by the cutover or the rollback): the next try reconnects.
        clients.delete(next.target);
        await client?.end().catch(() => undefined);
        await sleep(50);
      }
    }
    await Promise.all([...clients.values()].map((client) => client.end().catch(() => undefined)));
  };
  const done = Promise.all(Array.from({ length: workers }, (_, index) => work(index)));
  return {
    stop: async () => {
      running = false;
      await done;
      const seconds = (Date.now() - started) / 1000;
      return {
        rateTarget: rate,
        seconds: round(seconds),
        ...figures,
        unexpectedCount,
        committedPerSecond: round(figures.committed / seconds),
        committedPerSecondWhileOpen:
          lastCommitAt > started ? round((figures.committed * 1000) / (lastCommitAt - started)) : 0,
      };
    },
  };
}

/** Runs one query on one database of the side being checked. */
export type LedgerQuery = (
  database: string,
  sql: string,
  parameters: unknown[],
) => Promise<Record<string, unknown>[]>;

/** Where the load's tables live on the side being checked (table names are the bench's own constants). */
export type LedgerPlaces = {
  clients: string;
  users: string;
  materials: { database: string; table: 'materiaux' | 'shared_materials' };
};

/**
 * Counts the committed effects missing on the side checked: an inserted row absent, a deleted row
 * still there, an update whose last committed value is not the one found. Zero means nothing lost.
 */
export async function missingFromLedger(
  ledger: Ledger,
  places: LedgerPlaces,
  query: LedgerQuery,
): Promise<number> {
  const found = async (database: string, table: string, column: string, keys: string[], type = 'text') => {
    const [row] = await query(
      database,
      `SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1::${type}[])`,
      [keys],
    );
    return Number(row.n);
  };
  const stale = async (database: string, table: string, column: string, wanted: Map<string, string>) => {
    const rows = await query(
      database,
      `SELECT id::text AS id, ${column} AS value FROM ${table} WHERE id::text = ANY($1)`,
      [[...wanted.keys()]],
    );
    const values = new Map(rows.map((row) => [String(row.id), String(row.value)]));
    return [...wanted].filter(([id, value]) => values.get(id) !== value).length;
  };
  const clients = await found(places.clients, 'clients', 'numero_client', [...ledger.clients]);
  const traces = await found(places.clients, 'tracabilite', 'id', [...ledger.traces], 'uuid');
  const resurrected = await found(places.clients, 'tracabilite', 'id', [...ledger.deletedTraces], 'uuid');
  const materials = await found(places.materials.database, places.materials.table, 'code', [
    ...ledger.materials,
  ]);
  return (
    ledger.clients.size -
    clients +
    (ledger.traces.size - traces) +
    resurrected +
    (ledger.materials.size - materials) +
    (await stale(places.clients, 'clients', 'ville', ledger.clientVille)) +
    (await stale(places.users, 'users', 'prenom', ledger.userPrenom))
  );
}
