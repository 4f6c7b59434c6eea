import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncPath } from '../../../common/fs/durable-files';
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
  /** The installation this record belongs to (absent in records written before it was kept). */
  authDatabase?: string;
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
   * record is what lets a rerun reopen them without guessing who closed them. The monolith is
   * among them while the swap runs.
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

/** Which installation a state file belongs to: two installations may share one BACKUP_DIR. */
export type RollbackInstallation = { authDatabase: string; monolithDatabase: string; backupDir: string };

/** The name earlier versions used for every installation of a BACKUP_DIR. */
const LEGACY_FILE = 'in-progress.json';

/**
 * The record of one installation's rollback, `BACKUP_DIR/rollback/in-progress-<AUTH database>.json`.
 * Each write reaches the disk (file and folder fsynced) before it returns: the drops that follow
 * must never outlive the record of what they dropped.
 */
export class RollbackStateFile {
  readonly path: string;
  readonly #legacyPath: string;

  constructor(private readonly installation: RollbackInstallation) {
    const folder = join(installation.backupDir, 'rollback');
    this.path = join(folder, `in-progress-${installation.authDatabase}.json`);
    this.#legacyPath = join(folder, LEGACY_FILE);
  }

  read(): RollbackState | null {
    const path = existsSync(this.path) ? this.path : this.legacyRecordOfOurs();
    if (!path) return null;
    // Records written by earlier versions lack the newer fields: filled in here, once.
    const state = JSON.parse(readFileSync(path, 'utf8')) as Partial<RollbackState> & RollbackState;
    state.earlierPreDropBackups ??= [];
    state.closedDoors ??= [];
    state.splitStatus ??= 'complete';
    state.authDatabase ??= this.installation.authDatabase;
    return state;
  }

  /** Written to a temporary name, fsynced, renamed, and the folder fsynced: never half a record, never lost. */
  write(state: RollbackState): void {
    const folder = dirname(this.path);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    fsyncPath(temporary);
    renameSync(temporary, this.path);
    fsyncPath(folder);
    // The legacy record, once taken over, lives under the new name only.
    if (this.legacyRecordOfOurs()) {
      rmSync(this.#legacyPath, { force: true });
      fsyncPath(folder);
    }
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
    this.discard();
  }

  /** Forgets the record: only once nothing it names is left to undo or finish. */
  discard(): void {
    rmSync(this.path, { force: true });
    if (this.legacyRecordOfOurs()) rmSync(this.#legacyPath, { force: true });
    if (existsSync(dirname(this.path))) fsyncPath(dirname(this.path));
  }

  /**
   * A record in the pre-installation name is ours unless it names another monolith or AUTH: one that
   * says nothing is taken as ours, since blocking a migrate is safer than ignoring a rollback.
   */
  private legacyRecordOfOurs(): string | null {
    if (!existsSync(this.#legacyPath)) return null;
    const legacy = JSON.parse(readFileSync(this.#legacyPath, 'utf8')) as Partial<RollbackState>;
    const ours =
      (legacy.monolith ?? this.installation.monolithDatabase) === this.installation.monolithDatabase &&
      (legacy.authDatabase ?? this.installation.authDatabase) === this.installation.authDatabase;
    return ours ? this.#legacyPath : null;
  }
}

/** True while a rollback has closed, restored, dumped and dropped nothing: its record can go. */
export const nothingDoneYet = (state: RollbackState): boolean =>
  state.dropped.length === 0 &&
  !state.preDropBackup &&
  state.closedDoors.length === 0 &&
  !state.restore.restored &&
  !state.restore.swapped;
