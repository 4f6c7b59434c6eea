import { SchemaKind } from '../../../database/migrations/migration-sets';

/** One table the copy loaded, and where its time went. */
export type CopiedTable = {
  source: string;
  target: string;
  database: SchemaKind;
  rows: number;
  durationMs: number;
  /** Within durationMs: streaming the rows, rebuilding indexes and keys. */
  loadMs: number;
  indexMs: number;
  /**
   * Within durationMs: the load's own read of its rows before COMMIT. The name is kept from the load
   * checksum this used to time (reports and the bench read it): now a range load's count(*), and 0
   * for a whole-table load, which reads nothing back (the journal records its transaction instead).
   */
  checksumMs: number;
};
