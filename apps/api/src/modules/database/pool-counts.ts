import { DataSource } from 'typeorm';

/** Sessions of one pool, as pg's Pool counts them. */
export type PoolCounts = { database: string; total: number; idle: number; waiting: number };

type PgPool = { totalCount: number; idleCount: number; waitingCount: number };

/** The pool behind a connected DataSource (TypeORM's Postgres driver keeps pg's Pool as `master`). */
export function poolCounts(dataSource: DataSource | undefined): PoolCounts | undefined {
  if (!dataSource?.isInitialized) return undefined;
  const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
  if (!pool) return undefined;
  return {
    database: String(dataSource.options.database),
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  };
}
