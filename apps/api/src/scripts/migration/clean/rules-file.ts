import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assertParameters, CLEAN_TARGETS, CleanRule, CleanTarget, RuleValue } from './clean-rules';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { predicateProblem } from './predicate-syntax';

const RULE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Site-specific rules (`--rules-file rules.json`), the same data as the built-in ones:
 *
 *     {"rules": [{"name": "old-traces", "description": "audit trail older than 2 years",
 *                 "target": "monolith", "table": "tracabilite",
 *                 "predicate": "date_action < localtimestamp - make_interval(days => $1)",
 *                 "parameters": [730]}]}
 *
 * `table` is `name` or `schema.name`; the predicate is SQL over that table's columns (it may name
 * the table, e.g. in a correlated sub-query) and receives `parameters` as $1..$n, never pasted.
 * Such rules are planned, archived, verified and restorable exactly like the built-in ones. A
 * predicate is one expression: no comment, no `;`, balanced parentheses (predicate-syntax.ts), and
 * it is evaluated in read-only sub-transactions, so a function that writes fails the rule.
 */
export function loadRulesFile(path: string): CleanRule[] {
  const origin = resolve(path);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(origin, 'utf8'));
  } catch (error) {
    throw new CleanException(
      CleanExceptionCode.InvalidRulesFile,
      `cannot read the rules file ${origin}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const invalid = (message: string): CleanException =>
    new CleanException(CleanExceptionCode.InvalidRulesFile, `${origin}: ${message}`);
  const rules = (document as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw invalid('expected {"rules": [...]}');
  const seen = new Set<string>();
  return rules.map((entry: unknown, index): CleanRule => {
    if (typeof entry !== 'object' || entry === null) throw invalid(`rules[${index}] is not an object`);
    const rule = entry as Record<string, unknown>;
    const name = rule.name;
    if (typeof name !== 'string' || !RULE_NAME.test(name))
      throw invalid(`rules[${index}].name must be kebab-case (a-z, 0-9, -)`);
    const target = (rule.target ?? 'monolith') as CleanTarget;
    if (!CLEAN_TARGETS.includes(target))
      throw invalid(`rule "${name}": target must be one of ${CLEAN_TARGETS.join(', ')}`);
    if (seen.has(`${target}/${name}`)) throw invalid(`rule "${name}" is defined twice`);
    seen.add(`${target}/${name}`);
    for (const field of ['description', 'table', 'predicate'] as const) {
      const value = rule[field];
      if (typeof value !== 'string' || value.trim() === '')
        throw invalid(`rule "${name}": ${field} must be a non-empty string`);
    }
    const qualified = (rule.table as string).split('.');
    if (qualified.length > 2) throw invalid(`rule "${name}": table must be "name" or "schema.name"`);
    const [schema, table] = qualified.length === 2 ? qualified : ['public', qualified[0]];
    const parameters = rule.parameters ?? [];
    if (!Array.isArray(parameters) || !parameters.every(isRuleValue))
      throw invalid(
        `rule "${name}": parameters must be an array of strings, numbers, booleans or arrays of them`,
      );
    const predicate = rule.predicate as string;
    const problem = predicateProblem(predicate);
    if (problem) throw invalid(`rule "${name}": ${problem}`);
    assertParameters(name, predicate, parameters.length, origin);
    return {
      name,
      description: rule.description as string,
      target,
      selections: [{ schema, table, predicate, parameters: parameters.map((value) => ({ value })) }],
      origin,
    };
  });
}

function isRuleValue(value: unknown): value is RuleValue {
  if (['string', 'number', 'boolean'].includes(typeof value)) return true;
  return (
    Array.isArray(value) &&
    (value.every((item) => typeof item === 'string') || value.every((item) => typeof item === 'number'))
  );
}
