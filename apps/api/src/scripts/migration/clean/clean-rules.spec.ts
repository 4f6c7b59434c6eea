import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../../common/exceptions/exit-code';
import { CleanException } from './clean.exception';
import { DEFAULT_CLEAN_RULES, resolveSelections, selectRules } from './clean-rules';
import { loadRulesFile } from './rules-file';
import { highestParameter, shiftParameters } from './sql-parameters';

describe('clean rules', () => {
  it('selects every rule of the target by default, or exactly the named ones', () => {
    expect(selectRules(DEFAULT_CLEAN_RULES, 'auth').map((rule) => rule.name)).toEqual([
      'expired-sessions',
      'expired-mfa-sessions',
    ]);
    expect(selectRules(DEFAULT_CLEAN_RULES, 'monolith', ['demo-users']).map((rule) => rule.name)).toEqual([
      'demo-users',
    ]);
  });

  it('refuses an unknown rule with exit 2, listing the valid ones', () => {
    try {
      selectRules(DEFAULT_CLEAN_RULES, 'monolith', ['demo-users', 'all-users']);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(CleanException);
      expect((error as CleanException).exitCode).toBe(ExitCode.Usage);
      expect((error as CleanException).message).toContain('all-users');
      expect((error as CleanException).message).toContain('valid rules: test-tables, expired-sessions');
    }
  });

  it('passes the demo domains as a parameter, never in the SQL', () => {
    const rule = DEFAULT_CLEAN_RULES.find((candidate) => candidate.name === 'demo-users')!;
    const [selection] = resolveSelections(rule, { cleanTestEmailDomains: ['example.com', "o'brien.fr"] });
    expect(selection.values).toEqual([['example.com', "o'brien.fr"]]);
    expect(selection.predicate).not.toContain('example.com');
  });
});

describe('rules file', () => {
  const folder = mkdtempSync(join(tmpdir(), 'clean-rules-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const file = (content: unknown): string => {
    const path = join(folder, `${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const rule = {
    name: 'old-traces',
    description: 'audit trail',
    table: 'tracabilite',
    predicate: 'date_action < localtimestamp - make_interval(days => $1)',
    parameters: [730],
  };

  it('reads rules with their table, predicate and parameters', () => {
    const [loaded] = loadRulesFile(file({ rules: [rule] }));
    expect(loaded).toMatchObject({
      name: 'old-traces',
      target: 'monolith',
      selections: [{ schema: 'public', table: 'tracabilite', parameters: [{ value: 730 }] }],
    });
  });

  it.each([
    ['not JSON', '{'],
    ['no rules array', { rule }],
    ['a bad name', { rules: [{ ...rule, name: 'Old Traces' }] }],
    ['an unknown target', { rules: [{ ...rule, target: 'tenant' }] }],
    ['a placeholder without parameter', { rules: [{ ...rule, parameters: [] }] }],
    ['two statements', { rules: [{ ...rule, predicate: 'true; DROP TABLE users' }] }],
    ['an object parameter', { rules: [{ ...rule, parameters: [{ days: 1 }] }] }],
  ])('refuses %s with exit 2', (_label, content) => {
    try {
      loadRulesFile(file(content));
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(CleanException);
      expect(error).toMatchObject({ code: 'INVALID_RULES_FILE', exitCode: ExitCode.Usage });
    }
  });
});

describe('placeholders', () => {
  it('shifts $n outside quotes only', () => {
    expect(shiftParameters(`a = $1 AND b = '$1' AND "c$1" = $2 AND d = $$ $1 $$ AND e = E'\\'$1'`, 3)).toBe(
      `a = $4 AND b = '$1' AND "c$1" = $5 AND d = $$ $1 $$ AND e = E'\\'$1'`,
    );
    expect(highestParameter(`x = $2 OR y = '$9'`)).toBe(2);
  });
});
