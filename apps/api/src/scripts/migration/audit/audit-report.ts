import { Finding } from '../plan/finding';
import { ResolvedExclusion } from '../plan/plan-resolver';

export type AuditTable = {
  name: string;
  rows: number;
  softDeleted: number | null;
  sizeBytes: number;
  hasPrimaryKey: boolean;
  destination: string;
};

export type AuditReport = {
  database: string;
  generatedAt: string;
  serverVersion: string;
  summary: {
    tables: number;
    rows: number;
    softDeleted: number;
    sizeBytes: number;
    blockers: number;
    warnings: number;
    infos: number;
  };
  tables: AuditTable[];
  coverage: {
    planned: number;
    excluded: ResolvedExclusion[];
    unknownTables: string[];
    unknownColumns: string[];
  };
  findings: Finding[];
  recommendations: string[];
  reportPath: string;
};
