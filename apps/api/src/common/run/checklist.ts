import { Check } from './check';

/** What one named check found; `info` passes but says something the operator should read. */
export type CheckOutcome = { ok: boolean; detail: string; info?: boolean };

/**
 * One check of a checklist as a small named function over a shared context, so that long
 * pre-flights (dry-run, rollback --validate, verify) read as a list rather than one long method.
 * A check that has nothing to say returns undefined and adds no line.
 */
export type NamedCheck<Context> = {
  id: string;
  label: string;
  run: (context: Context) => Promise<CheckOutcome | undefined> | CheckOutcome | undefined;
};

/** The ✅/❌ lines of a command, in the order they were added. */
export class Checklist {
  readonly checks: Check[] = [];

  add(id: string, label: string, outcome: CheckOutcome): Check {
    const check: Check = { id, label, ok: outcome.ok, detail: outcome.detail };
    if (outcome.info) check.info = true;
    this.checks.push(check);
    return check;
  }

  pass(id: string, label: string, detail: string): Check {
    return this.add(id, label, { ok: true, detail });
  }

  fail(id: string, label: string, detail: string): Check {
    return this.add(id, label, { ok: false, detail });
  }

  /** Passes, with a note for the operator (shown as ℹ). */
  note(id: string, label: string, detail: string): Check {
    return this.add(id, label, { ok: true, detail, info: true });
  }

  get ok(): boolean {
    return this.checks.every((check) => check.ok);
  }

  has(id: string): boolean {
    return this.checks.some((check) => check.id === id);
  }

  /**
   * Runs the checks in order. Errors are not swallowed: a check that cannot run (a lost
   * connection) fails the command with its own error code, which is more honest than a ❌ line.
   */
  async run<Context>(context: Context, definitions: NamedCheck<Context>[]): Promise<this> {
    for (const definition of definitions) {
      const outcome = await definition.run(context);
      if (outcome) this.add(definition.id, definition.label, outcome);
    }
    return this;
  }
}
