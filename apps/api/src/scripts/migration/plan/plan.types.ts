import { SchemaKind } from '../../../database/migrations/migration-sets';

/**
 * How a column the target adds is filled during the copy: a constant bound at run time (the
 * société's id) or an SQL expression over the source row's columns. `rule` is what reports show.
 */
export type AddedColumn = {
  name: string;
  type: string;
  fill: { kind: 'societe-id' } | { kind: 'expression'; sql: string };
  rule: string;
};

export type PlannedTable = {
  source: string;
  target: string;
  database: SchemaKind;
  /** Columns the target adds to the legacy ones (tenant tables all add societe_id). */
  addedColumns: AddedColumn[];
};

export type ExcludedTable = { source: string; reason: string };

export type ColumnReference = { database: SchemaKind; table: string; column: string };

/**
 * A reference that no longer has a constraint after the split: a legacy foreign key between tables
 * that land in different databases, or a bare uuid column that always meant a row elsewhere.
 */
export type CutReference = {
  kind: 'foreign-key' | 'logical';
  from: ColumnReference & { sourceTable: string };
  to: ColumnReference & { sourceTable: string };
  /** The legacy constraint's name and delete rule, for foreign keys. */
  legacyConstraint?: string;
  onDelete?: 'CASCADE' | 'SET NULL';
};

export type NewTable = { database: SchemaKind; table: string; purpose: string };

/** The one source of truth for where each legacy table goes; copy, verify, audit and dry-run read it. */
export type MigrationPlan = {
  tables: PlannedTable[];
  excluded: ExcludedTable[];
  cutReferences: CutReference[];
  newTables: NewTable[];
};
