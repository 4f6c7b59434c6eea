import { TableFingerprint } from './backup-manifest';

export type FingerprintDifference = {
  table: string;
  expected: TableFingerprint | null;
  actual: TableFingerprint | null;
};

/** Tables whose count or checksum differs between two fingerprint sets (missing on either side included). */
export function compareFingerprints(
  expected: Record<string, TableFingerprint>,
  actual: Record<string, TableFingerprint>,
): FingerprintDifference[] {
  const differences: FingerprintDifference[] = [];
  for (const table of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
    const left = expected[table] ?? null;
    const right = actual[table] ?? null;
    if (!left || !right || left.rows !== right.rows || left.checksum !== right.checksum)
      differences.push({ table, expected: left, actual: right });
  }
  return differences;
}
