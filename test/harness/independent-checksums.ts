import { TestEnvironment } from './test-environment';

export type TableContent = { rows: number; md5: string };

/**
 * A content checksum computed differently from the product's (md5 instead of hashtextextended,
 * columns read from information_schema), so a test never checks the product against itself.
 */
export async function tableContent(
  environment: TestEnvironment,
  database: string,
  table: string,
  columns?: string[],
): Promise<TableContent> {
  const names =
    columns ??
    (
      await environment.query<{ column_name: string }>(
        database,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        [table],
      )
    ).map((row) => row.column_name);
  const row = names.map((name) => `t."${name.replace(/"/g, '""')}"`).join(', ');
  const [result] = await environment.query<{ rows: string; md5: string }>(
    database,
    `SELECT count(*) AS rows, coalesce(sum(('x' || left(md5(ROW(${row})::text), 16))::bit(64)::bigint), 0)::text AS md5 FROM public."${table}" t`,
  );
  return { rows: Number(result.rows), md5: result.md5 };
}

/** Content of every public table of a database. */
export async function databaseContent(
  environment: TestEnvironment,
  database: string,
): Promise<Record<string, TableContent>> {
  const tables = await environment.query<{ tablename: string }>(
    database,
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  const content: Record<string, TableContent> = {};
  for (const { tablename } of tables)
    content[tablename] = await tableContent(environment, database, tablename);
  return content;
}

export async function legacyColumns(
  environment: TestEnvironment,
  monolith: string,
  table: string,
): Promise<string[]> {
  return (
    await environment.query<{ column_name: string }>(
      monolith,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
      [table],
    )
  ).map((row) => row.column_name);
}
