import { chmodSync, createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { mapWithConcurrency } from '../../../common/concurrency/map-with-concurrency';
import { fsyncPath, timestampName } from '../../../common/fs/durable-files';
import { quoteQualified } from '../../../common/identifiers/identifier';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { TableCopyState } from '../../../modules/database/journal/journal.types';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { TableFingerprint } from '../backup/backup-manifest';
import { checksumSql } from '../catalogue/catalogue';
import { columnTypes, isTypedChecksum } from '../catalogue/typed-checksum';
import { typedTableChecksum } from '../snapshot/table-fingerprints';
import { CopyTask } from '../plan/plan-resolver';
import { loadedXidsProof } from './loaded-xids';

/** A target table whose content is not what the tool last wrote into it. */
export type TargetChange = {
  database: string;
  table: string;
  /**
   * What the tool's last committed load held; null when the tool never finished loading it (it
   * should be empty). `proof` says how it is known: by a checksum (journals written before the load
   * recorded its transactions, or the verification's), or by the xids of the load's transactions,
   * which give no checksum (null).
   */
  loaded: { rows: number | null; checksum: string | null; proof: 'checksum' | 'xids' } | null;
  /**
   * What it holds now; null when the table, or a column the load wrote, is gone. Checked by xids:
   * no checksum (null), and `foreignRows`, the rows no load transaction wrote.
   */
  found: { rows: number; checksum: string | null; foreignRows?: number } | null;
};

/** What the journal says the tool wrote into a table, and how to recognise it. */
type LoadedContent = { rows: number | null; columns: string[] } & (
  { proof: 'checksum'; checksum: string } | { proof: 'xids'; xids: string[] }
);

const key = (database: string, table: string): string => `${database}.${table}`;

/**
 * What the journal says the tool wrote into a table: the checksum taken in the load's own
 * transaction (journals written before the load recorded its transactions), the transactions that
 * wrote its rows, or, for journals that have neither, the verification's checksum.
 */
function loadedContent(state: TableCopyState | undefined): LoadedContent | null {
  if (!state?.checksumColumns || state.status === 'copying') return null;
  const base = { rows: state.rows, columns: state.checksumColumns };
  if (state.loadedChecksum) return { ...base, proof: 'checksum', checksum: state.loadedChecksum };
  if (state.loadedXids && state.loadedXids.length > 0)
    return { ...base, proof: 'xids', xids: state.loadedXids };
  if (state.status === 'verified' && state.checksum)
    return { ...base, proof: 'checksum', checksum: state.checksum };
  return null;
}

function loadedSummary(loaded: LoadedContent): NonNullable<TargetChange['loaded']> {
  return {
    rows: loaded.rows,
    checksum: loaded.proof === 'checksum' ? loaded.checksum : null,
    proof: loaded.proof,
  };
}

/**
 * Whether a table still holds exactly what the tool's last load wrote, and what it holds now.
 * Either proof fails closed: a table it cannot vouch for counts as changed.
 */
async function compareWithLoad(
  client: Client,
  table: string,
  loaded: LoadedContent,
): Promise<{ unchanged: boolean; found: TargetChange['found'] }> {
  if (loaded.proof === 'xids') {
    const proof = await loadedXidsProof(client, table, loaded);
    const found =
      proof.rows === null ? null : { rows: proof.rows, checksum: null, foreignRows: proof.foreignRows };
    return { unchanged: proof.unchanged, found };
  }
  const found = await loadedChecksumOf(client, table, loaded);
  return { unchanged: found !== null && found.checksum === loaded.checksum, found };
}

/**
 * The table's checksum of the kind the journal recorded: text for a load checksum, typed for a
 * verification's (catalogue/typed-checksum.ts); null when the table or a column is gone.
 */
async function loadedChecksumOf(
  client: Client,
  table: string,
  loaded: { columns: string[]; checksum: string },
): Promise<{ rows: number; checksum: string } | null> {
  if (!isTypedChecksum(loaded.checksum)) {
    const found = await checksumsOf(client, table, [loaded.columns]);
    return found ? { rows: found.rows, checksum: found.checksums[0] } : null;
  }
  const qualified = { schema: 'public', name: table };
  const types = await columnTypes(client, qualified, loaded.columns);
  return types
    ? typedTableChecksum(client, { ...qualified, columns: loaded.columns, types, sizeBytes: 0 })
    : null;
}

/**
 * Row count and one checksum per column set of a target table, or null when the table, or a
 * column the checksum covered, is gone (a later schema migration dropped it): changed either way.
 */
async function checksumsOf(
  client: Client,
  table: string,
  columnSets: string[][],
): Promise<{ rows: number; checksums: string[] } | null> {
  const present = await columnTypes(client, { schema: 'public', name: table }, [
    ...new Set(columnSets.flat()),
  ]);
  if (!present) return null;
  const result = await client.query<Record<string, string>>(
    checksumSql({ schema: 'public', name: table }, columnSets),
  );
  const row = result.rows[0];
  return {
    rows: Number(row.rows),
    checksums: columnSets.map((_, index) => row[index === 0 ? 'checksum' : `checksum${index}`]),
  };
}

/**
 * Tables the journal records as loaded by the tool whose content changed since (a row inserted by
 * an application pointed at the new databases too early, a DBA's fix). Reads only. `db:migrate`
 * refuses to overwrite them; `db:rollback --validate` can name them before anything is dropped.
 */
export async function changedTargetTables(
  connections: PostgresConnectionFactory,
  states: TableCopyState[],
  locate: (database: string) => DatabaseLocation = (database) => ({ database }),
): Promise<TargetChange[]> {
  const changes: TargetChange[] = [];
  const byDatabase = new Map<string, TableCopyState[]>();
  for (const state of states.filter((candidate) => loadedContent(candidate)))
    byDatabase.set(state.targetDatabase, [...(byDatabase.get(state.targetDatabase) ?? []), state]);
  for (const [database, tables] of byDatabase) {
    await connections.withClient(
      locate(database),
      async (client) => {
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        for (const state of tables) {
          const loaded = loadedContent(state) as LoadedContent;
          const { unchanged, found } = await compareWithLoad(client, state.targetTable, loaded);
          if (unchanged) continue;
          changes.push({ database, table: state.targetTable, loaded: loadedSummary(loaded), found });
        }
      },
      { readOnly: true, applicationName: 'topsteel-target-changes' },
    );
  }
  return changes;
}

/**
 * One table of a rerun: copied again when the tool never finished loading it or the monolith
 * changed since (its legacy columns against the source's fingerprint); changed when it is not what
 * the tool's last load left, or, never loaded, holds rows that are not the monolith's.
 */
async function classifyTarget(
  client: Client,
  task: CopyTask,
  context: { loaded: LoadedContent | null; source?: TableFingerprint; unfinishedRanges: boolean },
): Promise<{ pending: boolean; change?: Pick<TargetChange, 'loaded' | 'found'> }> {
  const { loaded, source } = context;
  const legacy = task.columns.map((column) => column.name);
  const sameAsSource = (found: { rows: number } | null, checksum: string | undefined) =>
    source !== undefined && found !== null && found.rows === source.rows && checksum === source.checksum;
  if (!loaded) {
    const found = await checksumsOf(client, task.target, [legacy]);
    const foreign =
      found !== null &&
      found.rows > 0 &&
      !context.unfinishedRanges &&
      !sameAsSource(found, found.checksums[0]);
    if (!foreign) return { pending: true };
    return {
      pending: true,
      change: { loaded: null, found: { rows: found.rows, checksum: found.checksums[0] } },
    };
  }
  if (loaded.proof === 'checksum' && !isTypedChecksum(loaded.checksum)) {
    // One scan for both checksums, as before the load recorded its transactions.
    const found = await checksumsOf(client, task.target, [loaded.columns, legacy]);
    const unchanged = found !== null && found.checksums[0] === loaded.checksum;
    const summary = found ? { rows: found.rows, checksum: found.checksums[0] } : null;
    return {
      pending: !sameAsSource(found, found?.checksums[1]),
      change: unchanged ? undefined : { loaded: loadedSummary(loaded), found: summary },
    };
  }
  const { unchanged, found } = await compareWithLoad(client, task.target, loaded);
  const current = await checksumsOf(client, task.target, [legacy]);
  return {
    pending: !sameAsSource(current, current?.checksums[0]),
    change: unchanged ? undefined : { loaded: loadedSummary(loaded), found },
  };
}

/**
 * For a rerun of an unfinished split: which tables to (re)copy, and which of them hold something the
 * tool did not write. A table is copied again when the tool never finished loading it or the
 * monolith changed since; it counts as changed when it differs from the tool's last load, or, never
 * loaded, holds rows that are not the monolith's (a crash between the load's commit and its
 * journal entry leaves exactly the monolith's rows: recopying those loses nothing; an unfinished
 * range load leaves a part of them, which the tool wrote: recopying those loses nothing either).
 */
export async function classifyTargets(
  connections: PostgresConnectionFactory,
  plan: {
    tasks: CopyTask[];
    locations: Record<SchemaKind, DatabaseLocation>;
    states: TableCopyState[];
    source: Record<string, TableFingerprint>;
    /** `database.table` of the range loads the journal records as unfinished: part of the monolith's rows, written by the tool. */
    rangeLoads?: Set<string>;
    /** Sessions at once, at most: the copy's --jobs, which the free connections already capped. */
    jobs: number;
  },
): Promise<{ pending: CopyTask[]; changed: TargetChange[] }> {
  const states = new Map(plan.states.map((state) => [key(state.targetDatabase, state.targetTable), state]));
  // The databases side by side (up to `jobs`), one session each (a split's first run reads one empty table after
  // another); the results are joined in the order a serial pass would give.
  const kinds = [...new Set(plan.tasks.map((task) => task.database))];
  const perDatabase = kinds.map(() => ({ pending: [] as CopyTask[], changed: [] as TargetChange[] }));
  const outcomes = await mapWithConcurrency(kinds, plan.jobs, async (kind, index) => {
    const { pending, changed } = perDatabase[index];
    const location = plan.locations[kind];
    await connections.withClient(
      location,
      async (client) => {
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        const tasks = plan.tasks.filter((candidate) => candidate.database === kind);
        const unloaded = tasks.filter(
          (task) => !loadedContent(states.get(key(location.database, task.target))),
        );
        const vacant = await vacantTables(
          client,
          unloaded.map((task) => task.target),
        );
        for (const task of tasks) {
          // Never loaded and empty (a first run's every table): nothing there to keep or compare.
          if (vacant.has(task.target)) {
            pending.push(task);
            continue;
          }
          const { pending: recopy, change } = await classifyTarget(client, task, {
            loaded: loadedContent(states.get(key(location.database, task.target))),
            source: plan.source[`public.${task.source}`],
            unfinishedRanges: plan.rangeLoads?.has(key(location.database, task.target)) ?? false,
          });
          if (change) changed.push({ database: location.database, table: task.target, ...change });
          if (recopy) pending.push(task);
        }
      },
      { applicationName: 'topsteel-migrate-plan' },
    );
  });
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return {
    pending: perDatabase.flatMap((database) => database.pending),
    changed: perDatabase.flatMap((database) => database.changed),
  };
}

/**
 * Which of `tables` (public) are missing or hold no row, in two statements whatever their number:
 * on a split's first run every target is empty, and one query per table was most of planning it.
 */
async function vacantTables(client: Client, tables: string[]): Promise<Set<string>> {
  if (tables.length === 0) return new Set();
  const present = await client.query<{ name: string }>(
    `SELECT name FROM unnest($1::text[]) AS t(name) WHERE to_regclass(quote_ident('public') || '.' || quote_ident(name)) IS NOT NULL`,
    [tables],
  );
  const existing = present.rows.map((row) => row.name);
  const vacant = new Set(tables.filter((table) => !existing.includes(table)));
  if (existing.length === 0) return vacant;
  const filled = await client.query<{ name: string; filled: boolean }>(
    existing
      .map(
        (table, index) =>
          `SELECT $${index + 1}::text AS name, EXISTS (SELECT 1 FROM ${quoteQualified('public', table)}) AS filled`,
      )
      .join(' UNION ALL '),
    existing,
  );
  for (const row of filled.rows) if (!row.filled) vacant.add(row.name);
  return vacant;
}

/**
 * Writes each changed table to `<BACKUP_DIR>/target-changes/<timestamp>/<database>.<table>.csv`
 * (CSV with a header, folder 0700, files 0600, flushed to disk) before the copy overwrites it;
 * `\copy <table> FROM '<file>' CSV HEADER` loads one back.
 */
export async function dumpTargetTables(
  connections: PostgresConnectionFactory,
  changes: TargetChange[],
  backupDir: string,
  locate: (database: string) => DatabaseLocation = (database) => ({ database }),
): Promise<{ folder: string; files: string[] }> {
  const folder = join(backupDir, 'target-changes', timestampName(new Date()));
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
  const files: string[] = [];
  for (const change of changes) {
    const file = join(folder, `${change.database}.${change.table}.csv`);
    const dumped = await connections.withClient(
      locate(change.database),
      async (client) => {
        const table = quoteQualified('public', change.table);
        const exists = await client.query<{ present: boolean }>(
          'SELECT to_regclass($1) IS NOT NULL AS present',
          [table],
        );
        if (!exists.rows[0].present) return false;
        await client.query(DETERMINISTIC_SESSION_SETTINGS);
        const reader = client.query(copyTo(`COPY (SELECT * FROM ${table}) TO STDOUT (FORMAT csv, HEADER)`));
        await pipeline(reader, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
        return true;
      },
      { readOnly: true, applicationName: 'topsteel-target-dump' },
    );
    if (!dumped) continue;
    fsyncPath(file);
    files.push(file);
  }
  fsyncPath(folder);
  return { folder, files };
}
