import { RunContext } from '../../../common/run/run-context';
import { HeldLock } from '../../../modules/database/migration-lock.service';

export type MoveRequest = {
  /** Code or id of the société. */
  societe: string;
  /** A server declared in TENANT_SERVERS (or `default`). */
  to: string;
  jobs: number;
  lock: HeldLock;
  run: RunContext;
};

export type MoveStepTiming = { step: string; durationMs: number };

/** The --json document of db:societe:move. */
export type MoveReport = {
  societe: string;
  database: string;
  from: string;
  to: string;
  /**
   * `moved`: this run did the whole move; `finished`: it completed a move interrupted after its
   * switch (dump and drop); `undone`: it undid an interrupted move whose target was the société's
   * current server, so the société stays where it was.
   */
  outcome: 'moved' | 'finished' | 'undone';
  /** An interrupted move was found and undone (before its switch) or finished (after it) first. */
  resumedInterruptedMove: boolean;
  /** Size of the source database on disk when the move started. */
  bytes: number;
  rows: number;
  tables: { table: string; rows: number; checksum: string }[];
  /** From marking the société as moving to the switch (null when this run did not clear it). */
  unavailableMs: number | null;
  dump: { path: string; bytes: number; sha256: string } | null;
  steps: MoveStepTiming[];
  durationMs: number;
};
