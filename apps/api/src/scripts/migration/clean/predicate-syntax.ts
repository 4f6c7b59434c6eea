/**
 * Why a rules-file predicate is not one self-contained expression, or null when it is. The tool
 * pastes a predicate inside parentheses (`WHERE (…)`, `(…) OR (…)`), so a comment, a `;` or a
 * parenthesis closed too early would let it reach beyond them: `x) OR (true` selects every row,
 * `x --` comments out what follows. Strings, quoted identifiers and dollar-quoted bodies are
 * skipped, so `note = 'a -- b'` is accepted. Whether the rest is a boolean expression over the
 * table is left to PostgreSQL, which plans it read-only.
 */
export function predicateProblem(predicate: string): string | null {
  // Whether \' ends a string depends on standard_conforming_strings and E'' syntax: refused, so
  // that this scan and the server always agree on where each string ends ('' is the quote).
  if (predicate.includes("\\'")) return "a backslash before a quote is ambiguous: write a quote as ''";
  let depth = 0;
  let index = 0;
  while (index < predicate.length) {
    const character = predicate[index];
    const pair = predicate.slice(index, index + 2);
    if (pair === '--' || pair === '/*') return `a comment ("${pair}") is not allowed`;
    if (character === ';') return 'a predicate is one expression, without ";"';
    if (character === "'" || character === '"') {
      const end = quotedEnd(predicate, index, character);
      if (end < 0) return `unterminated ${character === '"' ? 'quoted identifier' : 'string'}`;
      index = end;
      continue;
    }
    const dollarTag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(predicate.slice(index));
    if (dollarTag && !/[A-Za-z0-9_]/.test(predicate[index - 1] ?? '')) {
      const close = predicate.indexOf(dollarTag[0], index + dollarTag[0].length);
      if (close < 0) return `unterminated dollar-quoted string ${dollarTag[0]}`;
      index = close + dollarTag[0].length;
      continue;
    }
    if (character === '(') depth++;
    if (character === ')' && --depth < 0) return 'a ")" closes a parenthesis the predicate did not open';
    index++;
  }
  return depth > 0 ? 'a "(" is never closed' : null;
}

/** Index just past the closing quote (a doubled quote stays inside), or -1. */
function quotedEnd(text: string, start: number, quote: string): number {
  let index = start + 1;
  while (index < text.length) {
    if (text[index] === quote) {
      if (text[index + 1] !== quote) return index + 1;
      index += 2;
      continue;
    }
    index++;
  }
  return -1;
}
