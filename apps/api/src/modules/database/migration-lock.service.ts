import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DatabaseConfigService } from './database-config.service';
import { DatabaseException, DatabaseExceptionCode } from './database.exception';
import { PostgresConnectionFactory } from './postgres-connection.factory';

/** First half of the advisory lock key: "TSMG" as an int4, so that our locks never collide with an app's. */
const LOCK_CLASS_ID = 0x54534d47;
const APPLICATION_NAME = /^topsteel-lock (\S+) pid=(\d+) host=(.*)$/;

export type LockHolder = {
  command: string;
  pid: number | null;
  host: string;
  since: string;
  serverPid: number;
  clientAddress: string | null;
};

export type HeldLock = {
  /** Throws LockLost when the lock's session has gone, so a step never continues unprotected. */
  assertHeld(): void;
};

export type LockOptions = {
  timeoutMs: number;
  onWait?: (holder: LockHolder | null) => void;
};

export function describeHolder(holder: LockHolder | null): string {
  if (!holder) return 'an unknown session';
  const who = holder.pid ? `pid ${holder.pid} on ${holder.host}` : `server pid ${holder.serverPid}`;
  return `"${holder.command}" (${who}) since ${holder.since}`;
}

/**
 * DESIGN.md invariant 4: one writer at a time. A session-level advisory lock on the maintenance
 * database, keyed by the AUTH database name so that two installations on one server stay
 * independent. The holder is identified by its session's application_name and start time, so a
 * waiting run can say who it waits for without any table to keep in sync.
 */
@Injectable()
export class MigrationLockService {
  constructor(
    private readonly configService: DatabaseConfigService,
    private readonly connections: PostgresConnectionFactory,
  ) {}

  private get lockKey(): string {
    return this.configService.config.authDatabase;
  }

  async withMigrationLock<T>(
    command: string,
    options: LockOptions,
    work: (lock: HeldLock) => Promise<T>,
  ): Promise<T> {
    const client = await this.connections.connect(
      { database: this.configService.config.maintenanceDatabase },
      { applicationName: `topsteel-lock ${command} pid=${process.pid} host=${hostname()}` },
    );
    let lost = false;
    client.on('error', () => (lost = true));
    client.on('end', () => (lost = true));
    let keepAlive: NodeJS.Timeout | undefined;
    try {
      await this.acquire(client, options);
      // The session sits idle for the whole run: connect() already opted it out of the server's
      // timeouts, and a periodic query notices a connection that died anyway.
      keepAlive = setInterval(() => {
        client.query('SELECT 1').catch(() => (lost = true));
      }, 15000);
      keepAlive.unref();
      const lock: HeldLock = {
        assertHeld: () => {
          if (lost) {
            throw new DatabaseException(
              DatabaseExceptionCode.LockLost,
              'the session holding the migration lock was lost',
            );
          }
        },
      };
      return await work(lock);
    } finally {
      if (keepAlive) clearInterval(keepAlive);
      if (!lost)
        await client
          .query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS_ID, this.lockKey])
          .catch(() => undefined);
      await client.end().catch(() => undefined);
    }
  }

  /** Who holds the lock right now, or null. */
  async holder(): Promise<LockHolder | null> {
    return this.connections.withClient(
      { database: this.configService.config.maintenanceDatabase },
      (client) => this.holderWith(client),
      { applicationName: 'topsteel-status' },
    );
  }

  private async acquire(client: Client, options: LockOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    let reportedHolder: string | undefined;
    for (;;) {
      const result = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [LOCK_CLASS_ID, this.lockKey],
      );
      if (result.rows[0].locked) return;
      const holder = await this.holderWith(client);
      const description = describeHolder(holder);
      if (description !== reportedHolder) {
        reportedHolder = description;
        options.onWait?.(holder);
      }
      if (Date.now() >= deadline) {
        throw new DatabaseException(
          DatabaseExceptionCode.LockHeld,
          `another run holds the migration lock: ${description}; waited ${Math.round(options.timeoutMs / 1000)} s`,
          { holder },
        );
      }
      await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
    }
  }

  /** `holder` on a connection to the maintenance database the caller already holds. */
  async holderWith(client: Client): Promise<LockHolder | null> {
    const result = await client.query<{
      pid: number;
      application_name: string;
      backend_start: Date;
      client_addr: string | null;
    }>(
      `SELECT a.pid, a.application_name, a.backend_start, host(a.client_addr) AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objid = hashtext($2)::oid
         AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [LOCK_CLASS_ID, this.lockKey],
    );
    const row = result.rows[0];
    if (!row) return null;
    const parsed = APPLICATION_NAME.exec(row.application_name ?? '');
    return {
      command: parsed?.[1] ?? row.application_name ?? 'unknown',
      pid: parsed ? Number(parsed[2]) : null,
      host: parsed?.[3] ?? row.client_addr ?? 'unknown',
      since: new Date(row.backend_start).toISOString(),
      serverPid: row.pid,
      clientAddress: row.client_addr,
    };
  }
}
