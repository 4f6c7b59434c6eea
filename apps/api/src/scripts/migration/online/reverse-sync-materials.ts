import { Client } from 'pg';
import { quoteIdentifier, quoteQualified } from '../../../common/identifiers/identifier';

/**
 * PostgreSQL's apply worker matches a published table to the subscriber's by schema and name, so
 * SHARED's `shared_materials` cannot land in the monolith's `materiaux` directly (a view is not a
 * subscription target). The subscription writes into a same-named shadow table in the monolith,
 * seeded with materiaux's rows (UPDATE and DELETE must find them there). Forwarding each change
 * with a trigger does not work: the trigger's statements run through SPI, which refuses to write in
 * the read-only monolith, while the apply worker itself is let through. So the rollback, in the
 * tool's own session, brings materiaux level with the shadow (set-based), then drops the shadow.
 */
export async function createShadow(
  client: Client,
  shadow: string,
  legacy: string,
  columns: string[],
): Promise<void> {
  const list = columns.map(quoteIdentifier).join(', ');
  const table = quoteQualified('public', shadow);
  const source = quoteQualified('public', legacy);
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${table} (LIKE ${source} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`,
  );
  await client.query(`TRUNCATE ${table}`);
  await client.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${source}`);
}

/**
 * Makes the legacy table hold exactly the shadow's rows (matched by id), in three set-based
 * statements, inside the caller's transaction. Returns how many rows each statement touched.
 */
export async function levelFromShadow(
  client: Client,
  shadow: string,
  legacy: string,
  columns: string[],
): Promise<{ updated: number; inserted: number; deleted: number }> {
  const table = quoteQualified('public', shadow);
  const target = quoteQualified('public', legacy);
  const list = columns.map(quoteIdentifier).join(', ');
  const from = (alias: string) => columns.map((column) => `${alias}.${quoteIdentifier(column)}`).join(', ');
  const deleted = await client.query(
    `DELETE FROM ${target} m WHERE NOT EXISTS (SELECT 1 FROM ${table} s WHERE s.id = m.id)`,
  );
  const updated = await client.query(
    `UPDATE ${target} m SET (${list}) = ROW(${from('s')}) FROM ${table} s
     WHERE s.id = m.id AND ROW(${from('s')}) IS DISTINCT FROM ROW(${from('m')})`,
  );
  const inserted = await client.query(
    `INSERT INTO ${target} (${list}) SELECT ${from('s')} FROM ${table} s
     WHERE NOT EXISTS (SELECT 1 FROM ${target} m WHERE m.id = s.id)`,
  );
  return {
    updated: updated.rowCount ?? 0,
    inserted: inserted.rowCount ?? 0,
    deleted: deleted.rowCount ?? 0,
  };
}

export async function dropShadow(client: Client, shadow: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${quoteQualified('public', shadow)}`);
}
