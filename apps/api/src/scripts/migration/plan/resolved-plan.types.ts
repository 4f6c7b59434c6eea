import { SchemaKind } from '../../../database/migrations/migration-sets';
import { Finding } from './finding';
import { AddedColumn, CutReference, ExcludedTable } from './plan.types';

export type CopyColumn = { name: string; sourceType: string; targetType: string };

/** One table to copy, with the exact column list both sides share. */
export type CopyTask = {
  source: string;
  target: string;
  database: SchemaKind;
  columns: CopyColumn[];
  addedColumns: AddedColumn[];
  estimatedRows: number;
  sizeBytes: number;
  /** The role can read every row (SELECT granted, no row-level security in the way). */
  readable: boolean;
};

export type ResolvedExclusion = ExcludedTable & { by: 'plan' | 'operator' };

export type ResolvedPlan = {
  tasks: CopyTask[];
  excluded: ResolvedExclusion[];
  cutReferences: CutReference[];
};

/** `present`: the public tables that exist in the source. */
export type PlanValidation = { plan: ResolvedPlan; findings: Finding[]; present: Set<string> };

/** A target column as the migrations create it. */
export type TargetColumn = { name: string; type: string; nullable: boolean; hasDefault: boolean };

/** A target database's tables and enum labels, read live; before it exists the contract stands in. */
export type TargetSchema = { tables: Map<string, TargetColumn[]>; enums: Map<string, string[]> };
export type TargetSchemas = Partial<Record<SchemaKind, TargetSchema>>;

export type ResolveOptions = {
  /** Tables the operator leaves behind knowingly (`--exclude-table`), as "name" or "schema.name". */
  excludeTables?: string[];
  targets?: TargetSchemas;
  /**
   * Also evaluate the derived added columns over every source row (checkDerivedColumns). Needs the
   * caller's open transaction (savepoints); the pre-flight and the audit set it.
   */
  checkDerivedColumns?: boolean;
};
