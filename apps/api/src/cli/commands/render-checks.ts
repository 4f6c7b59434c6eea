import { Check } from '../../scripts/migration/check';
import { CHECK, CROSS } from '../runner/command-output.service';

/** A checklist as the operator reads it: one line per check, ✅ or ❌, the label and why. */
export function renderChecks(checks: Check[]): string[] {
  return checks.map((check) => `  ${check.ok ? CHECK : CROSS} ${check.label}: ${check.detail}`);
}
