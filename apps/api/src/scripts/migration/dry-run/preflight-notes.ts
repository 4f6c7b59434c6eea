import { quoteQualified } from '../../../common/identifiers/identifier';
import { tableStatistics } from '../catalogue/catalogue';
import { DEMO_EMAIL_PREDICATE } from '../clean/clean-rules';
import { PreflightFacts } from './preflight-facts';

/** What the operator should read before migrating, though nothing blocks: test data, demo accounts, a split already done. */
export async function preflightNotes(facts: PreflightFacts): Promise<string[]> {
  const notes: string[] = [];
  const testData = await testRows(facts);
  if (testData > 0)
    notes.push(
      `${testData} row(s) of test data in test_* tables stay behind: review and remove them with npm run db:clean (then db:clean:execute).`,
    );
  const demoAccounts = await demoAccountCounts(facts);
  if (demoAccounts.length > 0)
    notes.push(
      `${demoAccounts.join(' and ')} on demo e-mail domains (${facts.config.cleanTestEmailDomains.join(', ')}) would be migrated: ` +
        'review them with npm run db:clean (rules demo-users, demo-clients), remove them with db:clean:execute.',
    );
  if (facts.targets.splitComplete)
    notes.push('The split is already complete: db:migrate will only apply pending schema migrations.');
  return notes;
}

async function testRows({ source, validation }: PreflightFacts): Promise<number> {
  const testTables = validation.plan.excluded.filter(
    (exclusion) => /^test_/.test(exclusion.source) && validation.present.has(exclusion.source),
  );
  const statistics = await tableStatistics(
    source,
    testTables.map((exclusion) => ({ schema: 'public', name: exclusion.source })),
  );
  return [...statistics.values()].reduce((sum, value) => sum + value.rows, 0);
}

/** "3 user(s)", "2 client(s)": accounts db:clean's demo rules select (same predicate), for tables that have an email column. */
async function demoAccountCounts({ source, validation, config }: PreflightFacts): Promise<string[]> {
  const counts: string[] = [];
  for (const [table, label] of [
    ['users', 'user(s)'],
    ['clients', 'client(s)'],
  ] as const) {
    const task = validation.plan.tasks.find((candidate) => candidate.source === table);
    if (!task?.readable || !task.columns.some((column) => column.name === 'email')) continue;
    const result = await source.query<{ count: string }>(
      `SELECT count(*) AS count FROM ${quoteQualified('public', table)} WHERE ${DEMO_EMAIL_PREDICATE}`,
      [config.cleanTestEmailDomains],
    );
    const count = Number(result.rows[0].count);
    if (count > 0) counts.push(`${count} ${label}`);
  }
  return counts;
}
