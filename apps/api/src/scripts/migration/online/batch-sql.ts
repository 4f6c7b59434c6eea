import { quoteLiteral } from '../../../common/identifiers/identifier';

type Value = string | null | (string | null)[];

const literal = (value: Value): string => {
  if (value === null) return 'NULL';
  if (Array.isArray(value))
    return `ARRAY[${value.map((item) => (item === null ? 'NULL' : quoteLiteral(item))).join(', ')}]::text[]`;
  return quoteLiteral(value);
};

/**
 * The templates a batch can inline safely: no backslash (so every '…' string ends at its first
 * unpaired quote, whatever E'' would mean) and no dollar quoting ($tag$, $$), only $n parameters.
 * A plan's own expression (fill.sql) could hold either; its statement then keeps real parameters.
 */
export const canInline = (text: string): boolean => !text.includes('\\') && !/\$(?!\d)/.test(text);

/**
 * The statement with each $n replaced by its value as a quoted literal (the session runs with
 * standard_conforming_strings on), so that a batch's statements travel together in one simple
 * query: one round trip per target instead of one per statement. Quoted identifiers and string
 * literals in the template are copied as they are, so a "$1" inside a column name stays a name.
 */
export function inlineParameters(text: string, values: readonly Value[]): string {
  const parts: string[] = [];
  let start = 0;
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === '"' || char === "'") {
      let end = index + 1;
      while (end < text.length && !(text[end] === char && text[end + 1] !== char))
        end += text[end] === char ? 2 : 1;
      index = end + 1;
      continue;
    }
    const parameter = char === '$' ? /^\$(\d+)/.exec(text.slice(index, index + 12)) : null;
    if (!parameter) {
      index++;
      continue;
    }
    const position = Number(parameter[1]);
    if (position < 1 || position > values.length)
      throw new Error(`statement parameter $${position} has no value (${values.length} given)`);
    parts.push(text.slice(start, index), `(${literal(values[position - 1])})`);
    index += parameter[0].length;
    start = index;
  }
  parts.push(text.slice(start));
  return parts.join('');
}
