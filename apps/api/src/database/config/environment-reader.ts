import { SAFE_IDENTIFIER } from '../../common/identifiers/identifier';
import { ConfigException, ConfigExceptionCode, ConfigProblem } from './config.exception';

export type Environment = Record<string, string | undefined>;

/** A host name or an IP address (v4 or v6), not a URL. */
export const HOSTNAME = /^[A-Za-z0-9._:%[\]-]{1,255}$/;

/**
 * Reads variables and collects every problem before failing, so that one run lists everything to
 * fix. A problem names the variable and what is wrong, never the value: a mistyped variable may
 * hold a password or a URL with one.
 */
export class EnvironmentReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Environment) {}

  raw(variable: string): string | undefined {
    return this.env[variable];
  }

  problem(variable: string, reason: string): void {
    this.problems.push({ variable, reason });
  }

  text(variable: string, fallback: string): string {
    const value = this.env[variable]?.trim();
    return value === undefined || value === '' ? fallback : value;
  }

  integer(variable: string, fallback: number, minimum: number, maximum: number): number {
    const raw = this.text(variable, String(fallback));
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < minimum || value > maximum) {
      this.problem(variable, `must be an integer between ${minimum} and ${maximum}`);
      return fallback;
    }
    return value;
  }

  /** A name that will reach SQL: lower-cased and held to SAFE_IDENTIFIER. */
  identifier(variable: string, fallback: string): string {
    const value = this.text(variable, fallback).toLowerCase();
    if (!SAFE_IDENTIFIER.test(value)) {
      this.problem(
        variable,
        `must be a safe identifier (${SAFE_IDENTIFIER.source} after lower-casing): letters, digits and underscores only`,
      );
    }
    return value;
  }

  host(variable: string, fallback: string): string {
    const value = this.text(variable, fallback);
    if (!HOSTNAME.test(value)) this.problem(variable, 'must be a host name or an IP address (not a URL)');
    return value;
  }

  /** Throws one ConfigException (exit 2) listing every problem found so far. */
  assertValid(): void {
    if (this.problems.length === 0) return;
    const lines = this.problems.map((problem) => `  ${problem.variable}: ${problem.reason}`).join('\n');
    throw new ConfigException(
      ConfigExceptionCode.InvalidEnvironment,
      `invalid configuration:\n${lines}`,
      this.problems,
    );
  }
}
