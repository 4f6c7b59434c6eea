import { Option } from 'nest-commander';
import { collect, parseDuration, parsePositiveInteger } from './option-parsers';

/** How long a writing command waits for another run holding the migration lock, unless --lock-timeout says otherwise. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60000;

type SharedOptionDefinition = {
  flags: string;
  description: string;
  parse: (value: string, previous?: string[]) => unknown;
};

/**
 * The flags several commands share, declared once: the same spelling, parser and meaning
 * everywhere. A command lists the ones it takes with `@SharedOptions(...)`.
 */
const SHARED_OPTIONS = {
  json: {
    flags: '--json',
    description:
      'print exactly one JSON document on stdout (progress goes to stderr); pipe it with npm run -s … -- --json or npx topsteel … --json',
    parse: () => true,
  },
  verbose: {
    flags: '-v, --verbose',
    description: 'print every step with its duration on stderr',
    parse: () => true,
  },
  report: {
    flags: '--report <file>',
    description: 'also write the JSON document to FILE (mode 0600), e.g. for CI artifacts',
    parse: (value) => value,
  },
  jobs: {
    flags: '--jobs <n>',
    description:
      'sessions working in parallel; default from the CPUs, and always capped by the connections the server and the role have free',
    parse: (value) => parsePositiveInteger(value, '--jobs', 64),
  },
  excludeTable: {
    flags: '--exclude-table <name>',
    description: 'leave this table in the monolith knowingly (repeatable); reports record it',
    parse: (value, previous) => collect(value, previous),
  },
  lockTimeout: {
    flags: '--lock-timeout <duration>',
    description: 'how long to wait for another run holding the migration lock (e.g. 30s, 5m; default 60s)',
    parse: (value) => parseDuration(value, '--lock-timeout'),
  },
} satisfies Record<string, SharedOptionDefinition>;

export type SharedOptionName = keyof typeof SHARED_OPTIONS;

/** The parsed values of the shared flags, as commands receive them. */
export type SharedOptionValues = {
  json?: boolean;
  verbose?: boolean;
  report?: string;
  jobs?: number;
  excludeTable?: string[];
  lockTimeout?: number;
};

/**
 * Class decorator: the command takes these shared flags. nest-commander finds options as decorated
 * prototype methods, so each flag gets a parser method of its own on this class (named
 * `parse<Name>Option`); `descriptions` may say what a flag means for this command.
 */
export function SharedOptions(
  names: SharedOptionName[],
  descriptions: Partial<Record<SharedOptionName, string>> = {},
): ClassDecorator {
  return (target) => {
    for (const name of names) {
      const definition: SharedOptionDefinition = SHARED_OPTIONS[name];
      const method = `parse${name[0].toUpperCase()}${name.slice(1)}Option`;
      const descriptor: PropertyDescriptor = {
        value: (value: string, previous?: string[]) => definition.parse(value, previous),
        writable: true,
        configurable: true,
        enumerable: false,
      };
      Object.defineProperty(target.prototype, method, descriptor);
      Option({ flags: definition.flags, description: descriptions[name] ?? definition.description })(
        target.prototype as object,
        method,
        descriptor,
      );
    }
  };
}

export const lockTimeoutOf = (options: SharedOptionValues): number =>
  options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_MS;
