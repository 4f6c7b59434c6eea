/** One line of a checklist (dry-run, rollback --validate, verify): ✅ or ❌ with the reason. */
export type Check = {
  id: string;
  label: string;
  ok: boolean;
  detail: string;
  /** Passes, but says something the operator should know before acting (shown as ℹ). */
  info?: boolean;
};
