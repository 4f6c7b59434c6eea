import { Finding } from '../plan/finding';

const total = (findings: Finding[]): number =>
  findings.reduce((sum, finding) => sum + (finding.count ?? 0), 0);
const tables = (findings: Finding[]): string =>
  [...new Set(findings.map((finding) => finding.table).filter(Boolean))].join(', ');

/**
 * Recommendations computed from the findings: one sentence per kind of problem found, with its
 * numbers, in the order an operator should act on them. Nothing is said about what was not found.
 */
export function recommend(findings: Finding[]): string[] {
  const byCode = new Map<string, Finding[]>();
  for (const finding of findings) byCode.set(finding.code, [...(byCode.get(finding.code) ?? []), finding]);
  const take = (code: string): Finding[] => byCode.get(code) ?? [];
  const recommendations: string[] = [];

  const blockers = findings.filter((finding) => finding.severity === 'blocker');
  if (blockers.length > 0) {
    recommendations.push(
      `Resolve the ${blockers.length} blocker(s) before db:migrate (${[...new Set(blockers.map((finding) => finding.code))].join(', ')}); db:migration:dry-run must pass first.`,
    );
  }
  const unknownTables = take('UNKNOWN_TABLE');
  if (unknownTables.length > 0) {
    recommendations.push(
      `${unknownTables.length} table(s) are not in the plan (${tables(unknownTables)}): add them to the plan, or pass --exclude-table for each one you knowingly leave in the monolith.`,
    );
  }
  const unknownColumns = [
    ...take('UNKNOWN_COLUMN'),
    ...take('INCOMPATIBLE_TYPE'),
    ...take('UNKNOWN_ENUM_VALUE'),
    ...take('NULL_INTO_NOT_NULL'),
  ];
  if (unknownColumns.length > 0) {
    recommendations.push(
      `Align ${unknownColumns.length} column(s) between the monolith and the target schema (${unknownColumns.map((finding) => `${finding.table}.${finding.column}`).join(', ')}) with a target migration.`,
    );
  }
  const testData = [...take('TEST_DATA_PRESENT'), ...take('DEMO_ACCOUNT_PRESENT')];
  if (testData.length > 0) {
    recommendations.push(
      `Review the ${total(testData)} row(s) of test or demo data (${tables(testData)}) with npm run db:clean, then remove them with npm run db:clean:execute (archived first).`,
    );
  }
  const collisions = take('EMAIL_CASE_COLLISION');
  if (total(collisions) > 0) {
    recommendations.push(
      `${total(collisions)} user(s) have e-mail addresses that collide when lower-cased: merge or rename them before enabling case-insensitive login.`,
    );
  }
  const noPassword = [...take('USER_WITHOUT_PASSWORD'), ...take('USER_WITHOUT_EMAIL')];
  if (total(noPassword) > 0) {
    recommendations.push(
      `${total(noPassword)} user(s) lack an e-mail or a password: complete or deactivate them; they are migrated as they are.`,
    );
  }
  const sessions = [...take('SESSION_EXPIRED'), ...take('MFA_SESSION_EXPIRED')];
  if (total(sessions) > 0) {
    recommendations.push(
      `${total(sessions)} session(s) or MFA challenge(s) have expired: db:clean removes those ended more than 7 days ago.`,
    );
  }
  const orphans = take('ORPHAN_REFERENCE');
  if (total(orphans) > 0) {
    recommendations.push(
      `${total(orphans)} row(s) reference nothing (${orphans.map((finding) => `${finding.table}.${finding.column}`).join(', ')}): they are copied as they are; fix them at the source if the application relies on them.`,
    );
  }
  const dangling = take('CROSS_DATABASE_REFERENCE_DANGLING');
  if (total(dangling) > 0) {
    recommendations.push(
      `${total(dangling)} cross-database reference(s) already dangle in the monolith (${dangling.map((finding) => `${finding.table}.${finding.column}`).join(', ')}); db:verify tolerates exactly these and no new ones.`,
    );
  }
  const noKey = take('NO_PRIMARY_KEY');
  if (noKey.length > 0) {
    const duplicates = total(take('DUPLICATE_ROWS'));
    recommendations.push(
      `${noKey.length} table(s) have no primary key (${tables(noKey)})${duplicates > 0 ? ` and hold ${duplicates} exact duplicate row(s)` : ''}: they are copied row for row, duplicates included; add a key after the split.`,
    );
  }
  const views = take('NON_TABLE_RELATION');
  if (views.length > 0)
    recommendations.push(
      `Recreate ${views.length} view(s) on the target databases if the application uses them (${tables(views)}).`,
    );
  if (recommendations.length === 0)
    recommendations.push('No problem found: run npm run db:migration:dry-run, then npm run db:migrate.');
  return recommendations;
}
