import { Client } from 'pg';
import {
  DatabaseLocation,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';

/**
 * On the first SIGINT/SIGTERM, cancels the statement `client` is running (from a second session,
 * as psql does on Ctrl-C), so that a long plan or delete stops promptly; the caller then rolls
 * back. Returns the function that stops listening.
 */
export async function cancelOnAbort(
  connections: PostgresConnectionFactory,
  location: DatabaseLocation,
  client: Client,
  signal: AbortSignal,
): Promise<() => void> {
  const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const pid = result.rows[0].pid;
  const cancel = () => {
    void connections
      .withClient(location, (other) => other.query('SELECT pg_cancel_backend($1)', [pid]), {
        applicationName: 'topsteel-cancel',
      })
      .catch(() => undefined);
  };
  if (signal.aborted) cancel();
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}

/** How long a LOCK TABLE may wait, in whole milliseconds within PostgreSQL's integer range. */
export function lockTimeoutSql(milliseconds: number): string {
  return `SET LOCAL lock_timeout = ${Math.min(2147483647, Math.max(1, Math.trunc(milliseconds)))}`;
}
