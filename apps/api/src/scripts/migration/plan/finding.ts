/**
 * A blocker is only what would make the copy fail or lose data (DESIGN.md section 4); data-quality
 * problems are warnings, and facts worth knowing are info.
 */
export type Severity = 'blocker' | 'warning' | 'info';

export type Finding = {
  code: string;
  severity: Severity;
  message: string;
  table?: string;
  column?: string;
  count?: number;
  /** A few keys of the rows concerned (ids, never secrets). */
  sample?: string[];
  hint?: string;
};

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  return {
    blocker: findings.filter((finding) => finding.severity === 'blocker').length,
    warning: findings.filter((finding) => finding.severity === 'warning').length,
    info: findings.filter((finding) => finding.severity === 'info').length,
  };
}
