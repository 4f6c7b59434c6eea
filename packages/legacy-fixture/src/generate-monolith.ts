import { Client, ClientConfig } from 'pg';
import { authStatements } from './generator/fill-auth';
import { businessStatements } from './generator/fill-business';
import { productionStatements } from './generator/fill-production';
import { systemStatements } from './generator/fill-system';
import { uiStatements } from './generator/fill-ui';
import { Distribution, TableCounts, tableCounts } from './generator/scale';
import { readLegacySchema } from './legacy-schema';

export type GenerateMonolithOptions = {
  /** Where the server is; `database` here is the maintenance database used to create the monolith. */
  connection: ClientConfig;
  database: string;
  scale: number;
  /** How the rows spread over the tables (default `spread`, the contract monolith). */
  distribution?: Distribution;
  /** "Now" for the generated data (sessions expire relative to it). Defaults to today 00:00 UTC. */
  referenceDate?: Date;
  /** Drop the database first when it exists. Without it an existing database is an error. */
  replace?: boolean;
  /**
   * Server encoding of the new database (e.g. SQL_ASCII, LATIN1), created from template0 with the C
   * locale; the server's default when unset. Legacy monoliths are not always UTF-8.
   */
  encoding?: string;
  onStep?: (step: string, milliseconds: number) => void;
};

export type GenerateMonolithReport = {
  database: string;
  scale: number;
  distribution: Distribution;
  referenceDate: string;
  counts: TableCounts;
  milliseconds: number;
};

const SAFE_DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function defaultReferenceDate(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/**
 * Creates a database, loads the monolith schema and fills all 66 tables with set-based SQL
 * (generate_series), so that one scale, distribution and reference date always give the same rows.
 */
export async function generateMonolith(options: GenerateMonolithOptions): Promise<GenerateMonolithReport> {
  const started = Date.now();
  const database = options.database.toLowerCase();
  if (!SAFE_DATABASE_NAME.test(database)) {
    throw new Error(
      `database name "${options.database}" is not a safe identifier (${SAFE_DATABASE_NAME.source})`,
    );
  }
  const distribution = options.distribution ?? 'spread';
  const counts = tableCounts(options.scale, distribution);
  const referenceDate = options.referenceDate ?? defaultReferenceDate();
  const reference = referenceDate.toISOString().replace('T', ' ').replace('Z', '');
  const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const stepStarted = Date.now();
    const result = await work();
    options.onStep?.(label, Date.now() - stepStarted);
    return result;
  };

  const admin = new Client({ ...options.connection, application_name: 'topsteel-legacy-fixture' });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount && !options.replace) {
      throw new Error(`database "${database}" already exists (use replace to drop it first)`);
    }
    if (exists.rowCount) await admin.query(`DROP DATABASE "${database}" WITH (FORCE)`);
    if (options.encoding !== undefined && !/^[A-Z0-9_]{1,30}$/i.test(options.encoding))
      throw new Error(`encoding "${options.encoding}" is not an encoding name`);
    await admin.query(
      options.encoding
        ? `CREATE DATABASE "${database}" TEMPLATE template0 ENCODING '${options.encoding}' LC_COLLATE 'C' LC_CTYPE 'C'`
        : `CREATE DATABASE "${database}"`,
    );
  } finally {
    await admin.end();
  }

  const client = new Client({ ...options.connection, database, application_name: 'topsteel-legacy-fixture' });
  await client.connect();
  try {
    await client.query(
      "SET TimeZone = 'UTC'; SET synchronous_commit = off; SET client_min_messages = warning",
    );
    await step('schema', () => client.query(readLegacySchema()));
    const statements = [
      ...authStatements(counts),
      ...businessStatements(counts),
      ...productionStatements(counts),
      ...uiStatements(counts),
      ...systemStatements(counts),
    ];
    await client.query('BEGIN');
    for (const statement of statements) {
      const table = /INSERT INTO (\w+)/.exec(statement)?.[1] ?? 'statement';
      await step(table, () => client.query(statement.replaceAll(':ref', `'${reference}'`)));
    }
    await client.query('COMMIT');
    await step('analyze', () => client.query('ANALYZE'));
  } finally {
    await client.end();
  }
  return {
    database,
    scale: options.scale,
    distribution,
    referenceDate: referenceDate.toISOString(),
    counts,
    milliseconds: Date.now() - started,
  };
}
