import { inspect } from 'node:util';

/** Secrets scrubbed wherever they appear in text (a driver message, a child's stderr). */
const registeredSecrets = new Set<string>();

export type SecretOptions = {
  /**
   * Names the configuration prints as themselves (databases, user, host). A secret equal to one of
   * them (DB_PASSWORD=postgres) cannot be told apart from that name in free text, where it is public
   * anyway: it is then scrubbed only where it stands as a password (connection strings, conninfo,
   * password fields), so `database "postgres"` stays readable.
   */
  publicNames?: readonly string[];
};

/**
 * A value that must never reach a log, a report, an error or a child's argv. It prints as
 * "[redacted]" whatever serialises it, and registers itself so that `redactSecrets` can scrub text
 * that came from elsewhere.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string, options: SecretOptions = {}) {
    this.#value = value;
    if (value.length >= 4 && !options.publicNames?.includes(value)) registeredSecrets.add(value);
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
const CONNINFO_PASSWORD = /(\b[a-z_]*password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;
/** Object keys whose string values are secrets whatever they hold. */
const SECRET_KEY = /password|passwd|secret|token|credential/i;

/**
 * Removes every registered secret, as written and as JSON or a quoted literal would escape it, and
 * any password embedded in a URL or conninfo string.
 */
export function redactSecrets(text: string): string {
  let result = text
    .replace(CONNECTION_STRING_PASSWORD, '$1[redacted]$3')
    .replace(CONNINFO_PASSWORD, '$1[redacted]');
  for (const secret of registeredSecrets) {
    // Text serialised before it reached us (a log line, a child's JSON) carries the escaped form.
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (result.includes(form)) result = result.split(form).join('[redacted]');
    }
  }
  return result;
}

/**
 * JSON text with every secret scrubbed from the values before serialising: once `JSON.stringify`
 * has escaped a `"` or `\` in a secret, the text no longer contains the secret as written.
 */
export function redactedJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (key, field: unknown) => {
      if (typeof field !== 'string') return field;
      if (key !== '' && SECRET_KEY.test(key) && field !== '' && field !== '[redacted]') return '[redacted]';
      return redactSecrets(field);
    },
    space,
  );
}
