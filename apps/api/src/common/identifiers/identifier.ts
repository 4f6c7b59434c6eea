import { IdentifierException, IdentifierExceptionCode } from './identifier.exception';

/** DESIGN.md invariant 6: names from configuration or data must match this after lower-casing. */
export const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a name that comes from configuration or data (database name, société code, prefix) and
 * returns it lower-cased. Refuses before any SQL is built with it.
 */
export function safeIdentifier(value: string, what: string): string {
  const lowered = value.toLowerCase();
  if (!SAFE_IDENTIFIER.test(lowered)) {
    throw new IdentifierException(
      IdentifierExceptionCode.UnsafeIdentifier,
      `${what} is not a safe identifier: it must match ${SAFE_IDENTIFIER.source} after lower-casing`,
      { what },
    );
  }
  return lowered;
}

export function isSafeIdentifier(value: string): boolean {
  return SAFE_IDENTIFIER.test(value.toLowerCase());
}

/**
 * Quotes a catalogue name (table, column, constraint) for SQL. Catalogue names can legally hold
 * upper case, spaces or quotes ("isActive", "order"), so they are quoted, never pattern-checked.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\u0000')) {
    throw new IdentifierException(
      IdentifierExceptionCode.InvalidName,
      'an SQL identifier cannot be empty or contain NUL',
      {},
    );
  }
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}

/** Quotes a string literal for the rare statements that cannot take parameters (COMMENT, CREATE DATABASE options). */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) {
    throw new IdentifierException(
      IdentifierExceptionCode.InvalidName,
      'an SQL literal cannot contain NUL',
      {},
    );
  }
  return `'${value.replace(/'/g, "''")}'`;
}
