import { Client } from 'pg';
import { to as copyTo, from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';
import { CutReference } from '../plan/plan.types';

/** Source-side count of rows whose reference points at nothing, both tables in the monolith. */
export async function danglingInSource(source: Client, reference: CutReference): Promise<number> {
  const result = await source.query<{ count: string }>(
    `SELECT count(*) AS count FROM ${quoteQualified('public', reference.from.sourceTable)} c
     WHERE c.${quoteIdentifier(reference.from.column)} IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ${quoteQualified('public', reference.to.sourceTable)} p
                       WHERE p.${quoteIdentifier(reference.to.column)} = c.${quoteIdentifier(reference.from.column)})`,
  );
  return Number(result.rows[0].count);
}

/**
 * Target-side count across two databases without dblink: the referenced keys are streamed from
 * their database into a temporary table next to the referencing rows, then anti-joined there.
 */
export async function danglingAcrossDatabases(
  referencing: Client,
  referenced: Client,
  reference: CutReference,
  options: { inTransaction?: boolean } = {},
): Promise<number> {
  const type = await referenced.query<{ type: string }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
    [quoteQualified('public', reference.to.table), reference.to.column],
  );
  if (!type.rows[0])
    throw new Error(`${reference.to.database}.${reference.to.table}.${reference.to.column} does not exist`);
  // Inside a caller's transaction (a snapshot it keeps), a savepoint: the temporary table goes, the snapshot stays.
  await referencing.query(options.inTransaction ? 'SAVEPOINT topsteel_reference_check' : 'BEGIN');
  try {
    await referencing.query(
      `CREATE TEMPORARY TABLE topsteel_referenced_keys (key ${type.rows[0].type} PRIMARY KEY) ON COMMIT DROP`,
    );
    // pg-copy-streams, not the copy's relay (copy/copy-relay.ts): the verification keeps out of
    // the copy's code path, so that a fault in it cannot hide from the check.
    await pipeline(
      referenced.query(
        copyTo(
          `COPY (SELECT DISTINCT ${quoteIdentifier(reference.to.column)} FROM ${quoteQualified('public', reference.to.table)} WHERE ${quoteIdentifier(reference.to.column)} IS NOT NULL) TO STDOUT`,
        ),
      ),
      referencing.query(copyFrom('COPY topsteel_referenced_keys (key) FROM STDIN')),
    );
    const result = await referencing.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${quoteQualified('public', reference.from.table)} c
       WHERE c.${quoteIdentifier(reference.from.column)} IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM topsteel_referenced_keys k WHERE k.key = c.${quoteIdentifier(reference.from.column)})`,
    );
    return Number(result.rows[0].count);
  } finally {
    await referencing
      .query(options.inTransaction ? 'ROLLBACK TO SAVEPOINT topsteel_reference_check' : 'ROLLBACK')
      .catch(() => undefined);
  }
}
