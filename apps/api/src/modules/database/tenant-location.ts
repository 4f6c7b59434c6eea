/**
 * Where a société's data lives, kept apart from the tenant DataSource provider so that code which
 * only reads `societes` (db:status, db:backup) does not load TypeORM with it.
 */
export type TenantLocation = {
  societeId: string;
  code: string;
  database: string;
  /** The TENANT_SERVERS name recorded in `societes`; null on rows of older versions (host/port). */
  server: string | null;
  host: string | null;
  port: number | null;
};

/**
 * `societes.database_server` (AUTH migration 002) read through the whole row, so that `db:migrate`
 * can still list the sociétés of an AUTH that has not had migration 002 yet (NULL: default server).
 */
export function serverColumn(table = 'societes'): string {
  return `(to_jsonb(${table}) ->> 'database_server') AS database_server`;
}
