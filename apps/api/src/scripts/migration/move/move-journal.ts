import { Client } from 'pg';

/** The steps of a move, in order; the journal row says which one was last completed. */
export const MOVE_STEPS = [
  'marked',
  'copying',
  'copied',
  'verified',
  'switched',
  'dumped',
  'dropped',
] as const;
export type MoveStep = (typeof MOVE_STEPS)[number];

/** A move in progress, as `migration_journal.societe_moves` keeps it (survives a kill -9). */
export type MoveState = {
  societeId: string;
  moveId: string;
  code: string;
  database: string;
  fromServer: string;
  toServer: string;
  step: MoveStep;
  dumpPath: string | null;
  movingSince: string | null;
};

/** The switch (registry, then journal of created databases) is the commit point of a move. */
export const isCommitted = (step: MoveStep): boolean =>
  MOVE_STEPS.indexOf(step) >= MOVE_STEPS.indexOf('switched');

type MoveRow = {
  societe_id: string;
  move_id: string;
  code: string;
  database: string;
  from_server: string;
  to_server: string;
  step: MoveStep;
  dump_path: string | null;
  moving_since: string | null;
};

/** Reads and writes the move journal and the registry through one AUTH session. */
export class MoveJournal {
  constructor(private readonly auth: Client) {}

  /** AUTH migration 003 adds `moving_since`, which the app reads; a move needs it. */
  async hasMovingColumn(): Promise<boolean> {
    const result = await this.auth.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name = 'societes' AND column_name = 'moving_since'`,
    );
    return result.rowCount === 1;
  }

  async read(societeId: string): Promise<MoveState | null> {
    const result = await this.auth.query<MoveRow>(
      `SELECT m.societe_id, m.move_id, m.code, m.database, m.from_server, m.to_server, m.step, m.dump_path,
              s.moving_since::text AS moving_since
       FROM migration_journal.societe_moves m LEFT JOIN societes s ON s.id = m.societe_id
       WHERE m.societe_id = $1::uuid`,
      [societeId],
    );
    const row = result.rows[0];
    if (!row) return null;
    return {
      societeId: row.societe_id,
      moveId: row.move_id,
      code: row.code,
      database: row.database,
      fromServer: row.from_server,
      toServer: row.to_server,
      step: row.step,
      dumpPath: row.dump_path,
      movingSince: row.moving_since,
    };
  }

  /**
   * Step 1 in one transaction: the journal row and `moving_since`, from which the app answers 503.
   * A rerun keeps the first `moving_since`, so the unavailable window counts the whole move.
   */
  async begin(state: Omit<MoveState, 'step' | 'dumpPath' | 'movingSince'>): Promise<void> {
    await this.transaction(async () => {
      await this.auth.query(
        `INSERT INTO migration_journal.societe_moves (societe_id, move_id, code, database, from_server, to_server, step)
         VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, 'marked')`,
        [state.societeId, state.moveId, state.code, state.database, state.fromServer, state.toServer],
      );
      await this.auth.query(
        'UPDATE societes SET moving_since = coalesce(moving_since, clock_timestamp()) WHERE id = $1::uuid',
        [state.societeId],
      );
    });
  }

  async setStep(societeId: string, step: MoveStep, dumpPath?: string): Promise<void> {
    await this.auth.query(
      `UPDATE migration_journal.societe_moves SET step = $2, dump_path = coalesce($3, dump_path), updated_at = now()
       WHERE societe_id = $1::uuid`,
      [societeId, step, dumpPath ?? null],
    );
  }

  /**
   * The commit point, in one AUTH transaction: the registry names the new server, the journal of
   * created databases follows it (so rollback finds the database there), the app may open it again.
   * Returns how long the société was unavailable.
   */
  async switchRegistry(state: MoveState, createdByRun: string): Promise<number> {
    return this.transaction(async () => {
      const moved = await this.auth.query<{ unavailable_ms: string }>(
        `UPDATE societes SET database_server = $2, database_host = NULL, database_port = NULL, moving_since = NULL
         WHERE id = $1::uuid
         RETURNING coalesce(extract(epoch FROM clock_timestamp() - (SELECT moving_since FROM societes WHERE id = $1::uuid)) * 1000, 0)::bigint AS unavailable_ms`,
        [state.societeId, state.toServer],
      );
      // The new database was created by the tool: rollback may drop it, on its new server.
      await this.auth.query(
        `INSERT INTO migration_journal.databases (name, kind, societe_code, host, port, created_by_run, server)
         VALUES ($1, 'tenant', $2, NULL, NULL, $3::uuid, $4)
         ON CONFLICT (name) DO UPDATE SET server = EXCLUDED.server, host = NULL, port = NULL`,
        [state.database, state.code, createdByRun, state.toServer],
      );
      await this.setStep(state.societeId, 'switched');
      return Number(moved.rows[0]?.unavailable_ms ?? 0);
    });
  }

  /** Undo before the commit point: the société is served from its old place again. */
  async abandon(societeId: string): Promise<number> {
    return this.transaction(async () => {
      const cleared = await this.auth.query<{ unavailable_ms: string }>(
        `UPDATE societes SET moving_since = NULL WHERE id = $1::uuid
         RETURNING coalesce(extract(epoch FROM clock_timestamp() - (SELECT moving_since FROM societes WHERE id = $1::uuid)) * 1000, 0)::bigint AS unavailable_ms`,
        [societeId],
      );
      await this.forget(societeId);
      return Number(cleared.rows[0]?.unavailable_ms ?? 0);
    });
  }

  async forget(societeId: string): Promise<void> {
    await this.auth.query('DELETE FROM migration_journal.societe_moves WHERE societe_id = $1::uuid', [
      societeId,
    ]);
  }

  private async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.auth.query('BEGIN');
    try {
      const result = await work();
      await this.auth.query('COMMIT');
      return result;
    } catch (error) {
      await this.auth.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
