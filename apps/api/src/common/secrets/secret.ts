import { inspect } from 'node:util';

const registeredSecrets = new Set<string>();

/**
 * A value that must never reach a log, a report, an error or a child's argv. It prints as
 * "[redacted]" whatever serialises it, and registers itself so that `redactSecrets` can scrub text
 * that came from elsewhere (a driver message, a child's stderr).
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    if (value.length >= 4) registeredSecrets.add(value);
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

const CONNECTION_STRING_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]*)(@)/gi;
const CONNINFO_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;

/** Removes every registered secret and any password embedded in a URL or conninfo string. */
export function redactSecrets(text: string): string {
  let result = text
    .replace(CONNECTION_STRING_PASSWORD, '$1[redacted]$3')
    .replace(CONNINFO_PASSWORD, '$1[redacted]');
  for (const secret of registeredSecrets) {
    if (result.includes(secret)) result = result.split(secret).join('[redacted]');
  }
  return result;
}
