import { predicateProblem } from './predicate-syntax';

describe('predicateProblem', () => {
  it.each([
    'date_action < localtimestamp - make_interval(days => $1)',
    "note = 'a -- b; /* c */ ) ('",
    '"weird--name" IS NULL',
    "id IN (SELECT t.id FROM tracabilite t WHERE t.note = 'it''s')",
    'body = $tag$ -- ; ) $tag$',
  ])('accepts one expression: %s', (predicate) => {
    expect(predicateProblem(predicate)).toBeNull();
  });

  it.each([
    ['id IS NULL --', /comment/],
    ['id IS NULL /* */', /comment/],
    ['id IS NULL) OR (true', /closes a parenthesis/],
    ['(id IS NULL', /never closed/],
    ['true; DELETE FROM users', /;/],
    ["note = 'open", /unterminated string/],
    ["note = E'\\' OR true --'", /backslash/],
    ['body = $x$ open', /unterminated dollar/],
  ])('refuses %s', (predicate, problem) => {
    expect(predicateProblem(predicate)).toMatch(problem);
  });
});
