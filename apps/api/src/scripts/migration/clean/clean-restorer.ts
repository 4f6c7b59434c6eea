import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { RunContext } from '../../../common/run/run-context';
import { quoteIdentifier as q, quoteQualified } from '../../../common/identifiers/identifier';
import { sampleSql } from '../../../common/sql/sample';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { ArchivedTable, CleanArchiveManifest, checksumOf, restoredColumns } from './clean-archive';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { lockTimeoutSql } from './cancel-on-abort';
import { checkRestoreHistory } from './restore-history';
import { removeRestoreMarker, writeRestoreMarker } from './restore-markers';
import { currentTransaction, outcomeAfterFailedCommit, TransactionRecord } from './transaction-record';

export type RestoredTable = {
  table: string;
  action: 'inserted' | 'updated';
  rows: number;
  checksum: string;
};

const staging = (index: number): string => `pg_temp.${q(`clean_restore_${index}`)}`;
const list = (alias: string, columns: string[]): string =>
  columns.map((column) => `${alias}.${q(column)}`).join(', ');

/**
 * Puts an archive back in one transaction: the archived tables are locked, the clean that wrote the
 * archive must have committed and no earlier restore of it may have (restore-history.ts), every file is loaded
 * into a staging table and checked against the manifest's counts and checksums, conflicts are
 * looked for (deleted rows whose key exists again; changed rows that are gone or whose emptied
 * references were set since), then deleted rows are inserted parents first and changed rows get
 * their emptied references back (their other columns keep any later edit), each statement's own
 * RETURNING rows checksummed against the manifest. The restore's own transaction is recorded in
 * the archive folder before COMMIT, so that the next restore knows whether this one committed.
 * Any conflict or difference rolls everything back.
 */
export async function restoreArchive(
  client: Client,
  archive: { path: string; manifest: CleanArchiveManifest },
  options: { lockTimeoutMs: number; acceptDuplicateRisk: boolean; run: RunContext; lock: HeldLock },
): Promise<{ tables: RestoredTable[]; established: string[] }> {
  const { manifest } = archive;
  const { run } = options;
  const startedAt = new Date().toISOString();
  let marker: { file: string; transaction: TransactionRecord } | undefined;
  let restored: RestoredTable[];
  let established: string[];
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  try {
    await client.query(lockTimeoutSql(options.lockTimeoutMs));
    const tables = [...new Set(manifest.tables.map((table) => quoteQualified(table.schema, table.name)))];
    await run.step('lock tables', () => lockTables(client, tables, options.lockTimeoutMs));
    established = await run.step('check the clean committed and no restore did', () =>
      checkRestoreHistory(client, archive, { acceptDuplicateRisk: options.acceptDuplicateRisk }),
    );
    await run.step('load the archive', async () => {
      for (const [index, table] of manifest.tables.entries()) {
        run.shutdown.throwIfRequested();
        await load(client, archive.path, table, index);
      }
    });
    const conflicts = await run.step('look for conflicts', () => findConflicts(client, manifest));
    if (conflicts.length > 0) {
      const more = conflicts.length > 4 ? `; and ${conflicts.length - 4} more table(s)` : '';
      throw new CleanException(
        CleanExceptionCode.RestoreConflict,
        `cannot restore: ${conflicts.slice(0, 4).join('; ')}${more}`,
        { conflicts },
      );
    }
    restored = await run.step('restore rows', async () => {
      const results: RestoredTable[] = [];
      for (const [index, table] of manifest.tables.entries()) {
        run.shutdown.throwIfRequested();
        results.push(await putBack(client, table, index));
      }
      return results;
    });
    options.lock.assertHeld();
    run.shutdown.throwIfRequested();
    // Recorded before COMMIT, durably: after a kill -9 or a lost connection during COMMIT, the
    // next restore asks PostgreSQL what became of this transaction instead of guessing.
    marker = await run.step('record the restore', async () => {
      const transaction = await currentTransaction(client);
      const file = writeRestoreMarker(archive.path, {
        kind: 'clean-restore',
        transaction,
        runId: run.runId,
        startedAt,
      });
      return { file, transaction };
    });
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    // No COMMIT was sent: whether or not ROLLBACK got through, the server ends this transaction aborted.
    if (marker) removeRestoreMarker(archive.path, marker.file);
    throw asConflict(error);
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    // A COMMIT that raised on a live connection (a deferred constraint, a trigger) was rolled back,
    // and its marker can go; on a broken connection only the marker can tell later.
    if ((await outcomeAfterFailedCommit(client, marker.transaction)) === 'aborted') {
      removeRestoreMarker(archive.path, marker.file);
      throw asConflict(error);
    }
    throw new CleanException(
      CleanExceptionCode.RestoreOutcomeUnknown,
      `COMMIT failed (${error instanceof Error ? error.message : String(error)}); the restore is recorded as ${marker.file} in ${archive.path}`,
      { marker: marker.file },
      { cause: error },
    );
  }
  return { tables: restored, established };
}

/** Constraint violations mean rows that are there again: a conflict, with PostgreSQL's message. */
function asConflict(error: unknown): unknown {
  const sqlState = (error as { code?: string }).code;
  if (sqlState === '23505' || sqlState === '23503' || sqlState === '23514')
    return new CleanException(
      CleanExceptionCode.RestoreConflict,
      `cannot restore: ${(error as Error).message}`,
      { sqlState },
      { cause: error },
    );
  return error;
}

async function lockTables(client: Client, tables: string[], timeoutMs: number): Promise<void> {
  try {
    await client.query(`LOCK TABLE ${tables.join(', ')} IN EXCLUSIVE MODE`);
  } catch (error) {
    if ((error as { code?: string }).code !== '55P03') throw error;
    throw new CleanException(
      CleanExceptionCode.TablesBusy,
      `could not lock ${tables.join(', ')} within ${Math.round(timeoutMs / 1000)} s`,
    );
  }
}

async function load(client: Client, path: string, table: ArchivedTable, index: number): Promise<void> {
  const columns = table.columns.map((column) => column.name);
  try {
    await client.query(
      `CREATE TEMP TABLE ${q(`clean_restore_${index}`)} ON COMMIT DROP AS SELECT ${list('t', columns)} FROM ` +
        `${quoteQualified(table.schema, table.name)} AS t WITH NO DATA`,
    );
  } catch (error) {
    throw new CleanException(
      CleanExceptionCode.RestoreConflict,
      `${table.table} no longer has the archived columns: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  }
  const writer = client.query(
    copyFrom(
      `COPY ${staging(index)} (${columns.map(q).join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER true)`,
    ),
  );
  await pipeline(createReadStream(join(path, table.file)), writer);
  const loaded = await client.query<{ rows: string; checksum: string }>(
    checksumOf(table.columns, `${staging(index)} AS t`),
  );
  if (Number(loaded.rows[0].rows) !== table.rows || loaded.rows[0].checksum !== table.checksum)
    throw new CleanException(
      CleanExceptionCode.ArchiveCorrupted,
      `${table.file} does not hold the ${table.rows} row(s) its manifest describes`,
    );
}

async function findConflicts(client: Client, manifest: CleanArchiveManifest): Promise<string[]> {
  const conflicts: string[] = [];
  for (const [index, table] of manifest.tables.entries()) {
    const key = table.primaryKey;
    const target = quoteQualified(table.schema, table.name);
    if (!key) {
      // Without a key a row cannot be recognised: deleted rows go back as they are (duplicates are legal there).
      if (table.action === 'modified')
        conflicts.push(`${table.table} has no primary key to find changed rows by`);
      continue;
    }
    const sameKey = `(${list('t', key)}) = (${list('s', key)})`;
    const keyText = key.length === 1 ? `s.${q(key[0])}::text` : `ROW(${list('s', key)})::text`;
    const conflicting =
      table.action === 'deleted'
        ? `FROM ${staging(index)} AS s WHERE EXISTS (SELECT 1 FROM ${target} AS t WHERE ${sameKey})`
        : `FROM ${staging(index)} AS s
           WHERE NOT EXISTS (SELECT 1 FROM ${target} AS t WHERE ${sameKey}
                             AND ${(table.setColumns ?? []).map((column) => `t.${q(column)} IS NULL`).join(' AND ') || 'true'})`;
    const result = await client.query<{ count: string; samples: string[] | null }>(
      `SELECT count(*) AS count, ${sampleSql(conflicting, keyText, 3)} AS samples ${conflicting}`,
    );
    const count = Number(result.rows[0].count);
    if (count > 0)
      conflicts.push(
        table.action === 'deleted'
          ? `${count} row(s) of ${table.table} exist again with the archived keys (${(result.rows[0].samples ?? []).join(', ')})`
          : `${count} changed row(s) of ${table.table} are gone or their ${(table.setColumns ?? []).join(', ')} was set since ` +
              `(${(result.rows[0].samples ?? []).join(', ')})`,
      );
  }
  return conflicts;
}

async function putBack(client: Client, table: ArchivedTable, index: number): Promise<RestoredTable> {
  const columns = table.columns.map((column) => column.name);
  const target = quoteQualified(table.schema, table.name);
  let statement: string;
  let expected = { columns: table.columns, checksum: table.checksum };
  if (table.action === 'deleted') {
    statement = `INSERT INTO ${target} (${columns.map(q).join(', ')}) OVERRIDING SYSTEM VALUE
                 SELECT ${list('s', columns)} FROM ${staging(index)} AS s RETURNING ${columns.map(q).join(', ')}`;
  } else {
    // Only the references clean emptied go back: later changes to the other columns are kept.
    const key = table.primaryKey ?? [];
    const assignments = (table.setColumns ?? []).map((column) => `${q(column)} = s.${q(column)}`).join(', ');
    expected = { columns: restoredColumns(table), checksum: table.setChecksum ?? '' };
    statement = `UPDATE ${target} AS t SET ${assignments} FROM ${staging(index)} AS s
                 WHERE (${list('t', key)}) = (${list('s', key)})
                 RETURNING ${list(
                   't',
                   expected.columns.map((column) => column.name),
                 )}`;
  }
  const result = await client.query<{ rows: string; checksum: string }>(
    `WITH restored AS (${statement}) ${checksumOf(expected.columns, 'restored AS t')}`,
  );
  const rows = Number(result.rows[0].rows);
  const checksum = result.rows[0].checksum;
  if (rows !== table.rows || checksum !== expected.checksum)
    throw new CleanException(
      CleanExceptionCode.RestoreMismatch,
      `${table.table}: ${rows} row(s) written with checksum ${checksum}, the archive holds ${table.rows} with ${expected.checksum}`,
    );
  return { table: table.table, action: table.action === 'deleted' ? 'inserted' : 'updated', rows, checksum };
}
