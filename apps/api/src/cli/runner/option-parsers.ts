import { UsageException, UsageExceptionCode } from './usage.exception';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const FACTORS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** "30s", "2m", "500ms", "1h" or a bare number of seconds, in milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) {
    throw new UsageException(
      UsageExceptionCode.InvalidOption,
      `${flag} must be a duration such as 30s, 2m, 500ms or 1h`,
    );
  }
  return Math.round(Number(match[1]) * FACTORS[match[2] ?? 's']);
}

export function parsePositiveInteger(value: string, flag: string, maximum = 1000): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > maximum) {
    throw new UsageException(
      UsageExceptionCode.InvalidOption,
      `${flag} must be an integer between 1 and ${maximum}`,
    );
  }
  return number;
}

/** Accumulates a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
