import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { DatabaseSnapshot, SplitStatus } from '../../../modules/database/journal/journal.types';

export type DatabaseToDrop = {
  name: string;
  kind: SchemaKind;
  /** The TENANT_SERVERS name recorded by the journal (null: host/port, or the default server). */
  server?: string | null;
  host: string | null;
  port: number | null;
};

/**
 * A rollback in progress, on disk next to the backups: the journal lives in AUTH, which the
 * rollback drops, so everything a rerun needs to finish the job is written here first.
 */
export type RollbackState = {
  version: 1;
  runId: string;
  startedAt: string;
  monolith: string;
  /** Null only when no split was recorded: the databases are dropped and nothing is restored. */
  backup: { name: string; path: string } | null;
  drop: DatabaseToDrop[];
  dropped: string[];
  snapshots: DatabaseSnapshot[];
  /**
   * The split's status when the rollback started (the journal goes with AUTH): a split that never
   * completed has no snapshots, and its databases hold nothing but the tool's copy. Absent in
   * records written before it existed, which read() fills in as complete (the stricter reading).
   */
  splitStatus: SplitStatus | 'none';
  /**
   * Databases whose doors this rollback closed (ALLOW_CONNECTIONS false), written before closing
   * and cleared after reopening or dropping: after a kill -9 nobody can connect to them, and this
   * record is what lets a rerun reopen them without guessing who closed them.
   */
  closedDoors: string[];
  preDropBackup: string | null;
  /** Pre-drop dumps superseded by a new one after a refusal, that hold databases already dropped. */
  earlierPreDropBackups: string[];
  restore: {
    needed: boolean;
    newName: string;
    replacedName: string | null;
    restored: boolean;
    swapped: boolean;
  };
};

export class RollbackStateFile {
  readonly path: string;

  constructor(backupDir: string) {
    this.path = join(backupDir, 'rollback', 'in-progress.json');
  }

  read(): RollbackState | null {
    if (!existsSync(this.path)) return null;
    // Records written by earlier versions lack the newer fields: filled in here, once.
    const state = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<RollbackState> & RollbackState;
    state.earlierPreDropBackups ??= [];
    state.closedDoors ??= [];
    state.splitStatus ??= 'complete';
    return state;
  }

  /** Written to a temporary name then renamed, so a crash never leaves half a state file. */
  write(state: RollbackState): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  /** Keeps the finished state as a record of what was done (in `folder`, when there is one). */
  complete(state: RollbackState, folder: string | null): void {
    if (folder) {
      writeFileSync(
        join(folder, 'rollback-state.json'),
        `${JSON.stringify({ ...state, completedAt: new Date().toISOString() }, null, 2)}\n`,
        { mode: 0o600 },
      );
    }
    rmSync(this.path, { force: true });
  }
}
