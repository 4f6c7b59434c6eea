/**
 * Rules write their predicates with their own $1..$n; several rules end up in one statement, so
 * their placeholders are shifted. Only placeholders are touched: text inside '...', E'...',
 * "identifiers" and $tag$ dollar quotes $tag$ is copied as it is.
 */
export function shiftParameters(sql: string, offset: number): string {
  return rewrite(sql, (number) => `$${number + offset}`);
}

/** The highest $n a fragment uses (0 when none). */
export function highestParameter(sql: string): number {
  let highest = 0;
  rewrite(sql, (number) => {
    highest = Math.max(highest, number);
    return `$${number}`;
  });
  return highest;
}

const DOLLAR_QUOTE = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

function rewrite(sql: string, placeholder: (number: number) => string): string {
  let output = '';
  let position = 0;
  while (position < sql.length) {
    const character = sql[position];
    if (character === "'" || character === '"') {
      const escapes = character === "'" && /(^|[^A-Za-z0-9_])[eE]$/.test(sql.slice(0, position));
      const end = closingQuote(sql, position, character, escapes);
      output += sql.slice(position, end);
      position = end;
      continue;
    }
    if (character === '$') {
      const digits = /^\$(\d+)/.exec(sql.slice(position));
      if (digits && !/[A-Za-z0-9_]$/.test(sql.slice(0, position))) {
        output += placeholder(Number(digits[1]));
        position += digits[0].length;
        continue;
      }
      const tag = DOLLAR_QUOTE.exec(sql.slice(position));
      if (tag) {
        const close = sql.indexOf(tag[0], position + tag[0].length);
        const end = close < 0 ? sql.length : close + tag[0].length;
        output += sql.slice(position, end);
        position = end;
        continue;
      }
    }
    output += character;
    position += 1;
  }
  return output;
}

/** Index just past the quote that closes the one at `start` ('' and "" are escaped quotes). */
function closingQuote(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let position = start + 1;
  while (position < sql.length) {
    if (backslashEscapes && sql[position] === '\\') {
      position += 2;
      continue;
    }
    if (sql[position] === quote) {
      if (sql[position + 1] === quote) {
        position += 2;
        continue;
      }
      return position + 1;
    }
    position += 1;
  }
  return sql.length;
}
