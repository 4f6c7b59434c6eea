import { Client } from 'pg';
import {
  DatabaseLocation,
  DETERMINISTIC_SESSION_SETTINGS,
  PostgresConnectionFactory,
} from '../../../modules/database/postgres-connection.factory';
import { REVERSE_APPLICATION } from '../online/reverse-sync-names';

/**
 * A few read-only sessions on one database, opened before the write pause (a connection costs an
 * authentication round, which the pause should not wait for), taking work in the order it is queued.
 */
export class SessionPool {
  readonly #idle: Client[];
  readonly #waiting: ((client: Client) => void)[] = [];

  private constructor(
    readonly clients: Client[],
    /** The sessions' backend pids: the block on the new databases spares them. */
    readonly pids: number[],
  ) {
    this.#idle = [...clients];
  }

  /** The first session must open; one past it that cannot (connections used up) leaves its share to the others. */
  static async open(
    connections: PostgresConnectionFactory,
    location: DatabaseLocation,
    size: number,
  ): Promise<SessionPool> {
    const opened = await Promise.allSettled(
      Array.from({ length: size }, async () => {
        const client = await connections.connect(location, {
          applicationName: REVERSE_APPLICATION,
          readOnly: true,
        });
        try {
          await client.query(DETERMINISTIC_SESSION_SETTINGS);
          const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
          return { client, pid };
        } catch (error) {
          await client.end().catch(() => undefined);
          throw error;
        }
      }),
    );
    const sessions = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    if (sessions.length === 0) throw (opened[0] as PromiseRejectedResult).reason;
    return new SessionPool(
      sessions.map((session) => session.client),
      sessions.map((session) => session.pid),
    );
  }

  /** Runs the work on the next free session, first come first served. */
  async run<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#idle.pop() ?? (await new Promise<Client>((resolve) => this.#waiting.push(resolve)));
    try {
      return await work(client);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(client);
      else this.#idle.push(client);
    }
  }

  async end(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.end().catch(() => undefined)));
  }
}
