import { Check } from '../../common/run/check';
import { CHECK, CROSS, INFO } from '../runner/command-output.service';

/** A checklist as the operator reads it: one line per check, ✅, ℹ or ❌, the label and why. */
export function renderChecks(checks: Check[]): string[] {
  return checks.map(
    (check) => `  ${check.ok ? (check.info ? INFO : CHECK) : CROSS} ${check.label}: ${check.detail}`,
  );
}
