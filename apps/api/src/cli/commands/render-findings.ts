import { Finding } from '../../scripts/migration/plan/finding';

const MARK: Record<Finding['severity'], string> = {
  blocker: '❌ blocker',
  warning: '⚠️  warning',
  info: 'ℹ️  info',
};
const ORDER: Finding['severity'][] = ['blocker', 'warning', 'info'];

/** Findings, most severe first, one line each with the hint indented below. */
export function renderFindings(findings: Finding[]): string {
  return [...findings]
    .sort((left, right) => ORDER.indexOf(left.severity) - ORDER.indexOf(right.severity))
    .map((finding) => {
      const sample = finding.sample?.length ? ` (e.g. ${finding.sample.slice(0, 3).join(', ')})` : '';
      return `  ${MARK[finding.severity]}  ${finding.message}${sample}${finding.hint ? `\n      → ${finding.hint}` : ''}`;
    })
    .join('\n');
}
