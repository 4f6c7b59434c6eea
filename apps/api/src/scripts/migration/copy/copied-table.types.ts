import { SchemaKind } from '../../../database/migrations/migration-sets';

/** One table the copy loaded, and where its time went. */
export type CopiedTable = {
  source: string;
  target: string;
  database: SchemaKind;
  rows: number;
  durationMs: number;
  /** Within durationMs: streaming the rows, rebuilding indexes and keys, the checksum before COMMIT. */
  loadMs: number;
  indexMs: number;
  checksumMs: number;
};
