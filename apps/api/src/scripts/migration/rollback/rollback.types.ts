import { ReverseLinkStatus } from '../online/reverse-status';
import { ReverseDrainReport } from './reverse-drain';
import { Check } from '../../../common/run/check';
import { SplitStatus } from '../../../modules/database/journal/journal.types';
import { FingerprintDifference } from '../backup-current-database';
import { SchemaDifference } from '../snapshot/schema-fingerprint';
import { DatabaseToDrop } from './rollback-state';

export type PostSplitChange = {
  database: string;
  table: string;
  rowsAtSplit: number | null;
  rowsNow: number | null;
};

export type RollbackValidation = {
  ok: boolean;
  inProgress: boolean;
  nothingToDo: boolean;
  checks: Check[];
  backup: { name: string; path: string } | null;
  drop: DatabaseToDrop[];
  untouched: string[];
  restore: {
    needed: boolean;
    monolithExists: boolean;
    differences: FingerprintDifference[];
    /** Structural differences (constraints, indexes, defaults, sequences gone back…), by object. */
    schemaDifferences: SchemaDifference[];
    /** False when the backup's manifest predates schema fingerprints: then only rows decide. */
    schemaCompared: boolean;
    /** How the monolith was compared with its backup; null when it was not (absent, closed, no split). */
    comparison: MonolithComparison;
  };
  postSplitData: PostSplitChange[];
  /** After an online split: the monolith's subscriptions to the new databases and their lag. */
  reverseSync: ReverseLinkStatus[] | null;
  /** The split's status in the journal (or the in-progress record); 'none' when no split is recorded. */
  splitStatus: SplitStatus | 'none';
};

/**
 * 'no-write-since-dump': same structure and row counts, and no row written since the backup's dump
 * (one scan per table, no checksum); 'checksums': hashed in full and compared, table by table.
 */
export type MonolithComparison = 'no-write-since-dump' | 'checksums' | null;

export type RollbackOptions = { acceptDataLoss?: boolean; backupName?: string };

export type RollbackReport = {
  nothingToDo: boolean;
  dropped: string[];
  preDropBackup: string | null;
  restored: boolean;
  replacedMonolith: string | null;
  backup: string | null;
  /** After an online split with reverse sync: the write pause (new databases blocked to monolith writable). */
  pauseMs: number | null;
  reverseSync: ReverseDrainReport | null;
  nextSteps: string[];
};
