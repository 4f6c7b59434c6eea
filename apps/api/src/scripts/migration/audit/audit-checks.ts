import { quoteIdentifier as q, quoteQualified } from '../../../common/identifiers/identifier';
import { countWithSampleSql, sampleSql } from '../../../common/sql/sample';
import { DEMO_EMAIL_PREDICATE } from '../clean/clean-rules';
import { Severity } from '../plan/finding';
import { CutReference } from '../plan/plan.types';
import { UnconstrainedReference } from '../plan/references';

/** One data-quality question asked of the monolith. Its SQL returns `count` and optionally `sample` (text[]). */
export type AuditCheck = {
  code: string;
  severity: Severity;
  table: string;
  column?: string;
  /** Columns the SQL reads; the check is skipped (and says so) when the live schema lacks one. */
  requires: { table: string; columns: string[] }[];
  sql: string;
  parameters?: unknown[];
  message: (count: number) => string;
};

const t = (table: string): string => quoteQualified('public', table);

/** The session-expiry rule of the plan (user_sessions.expires_at), so audit and copy agree. */
export type AuditContext = { sessionExpiresAt: string; testEmailDomains: string[]; testTables: string[] };

export function dataQualityChecks(context: AuditContext): AuditCheck[] {
  return [
    {
      code: 'USER_WITHOUT_EMAIL',
      severity: 'warning',
      table: 'users',
      column: 'email',
      requires: [{ table: 'users', columns: ['id', 'email'] }],
      sql: countWithSampleSql(`FROM ${t('users')} WHERE email IS NULL OR btrim(email) = ''`, 'id::text'),
      message: (count) => `${count} user(s) without an e-mail address`,
    },
    {
      code: 'USER_WITHOUT_PASSWORD',
      severity: 'warning',
      table: 'users',
      column: 'password',
      requires: [{ table: 'users', columns: ['id', 'password'] }],
      sql: countWithSampleSql(
        `FROM ${t('users')} WHERE password IS NULL OR btrim(password) = ''`,
        'id::text',
      ),
      message: (count) => `${count} user(s) without a password (they cannot log in)`,
    },
    {
      code: 'EMAIL_CASE_COLLISION',
      severity: 'warning',
      table: 'users',
      column: 'email',
      requires: [{ table: 'users', columns: ['id', 'email'] }],
      // The collisions are read once (a CTE used twice is materialised), the sample with a LIMIT.
      sql: `WITH collisions AS (SELECT count(*) AS users, string_agg(id::text, '+' ORDER BY id) AS ids FROM ${t('users')}
                                WHERE btrim(email) <> '' GROUP BY lower(btrim(email)) HAVING count(*) > 1)
            SELECT coalesce(sum(users), 0)::bigint AS count, ${sampleSql('FROM collisions', 'ids')} AS sample FROM collisions`,
      message: (count) => `${count} user(s) share an e-mail address that differs only in case`,
    },
    {
      code: 'SESSION_EXPIRED',
      severity: 'info',
      table: 'user_sessions',
      requires: [
        { table: 'user_sessions', columns: ['id', 'logoutTime', 'lastActivity', 'status', 'isActive'] },
      ],
      sql: countWithSampleSql(
        `FROM ${t('user_sessions')} WHERE (${context.sessionExpiresAt}) < localtimestamp`,
        'id::text',
      ),
      message: (count) =>
        `${count} session(s) already expired (migrated as they are; db:clean removes old ones)`,
    },
    {
      code: 'MFA_SESSION_EXPIRED',
      severity: 'info',
      table: 'mfa_session',
      requires: [{ table: 'mfa_session', columns: ['id', 'expiresAt'] }],
      sql: countWithSampleSql(
        `FROM ${t('mfa_session')} WHERE ${q('expiresAt')} < localtimestamp`,
        'id::text',
      ),
      message: (count) => `${count} MFA challenge(s) already expired`,
    },
    ...context.testTables.map((table): AuditCheck => ({
      code: 'TEST_DATA_PRESENT',
      severity: 'warning',
      table,
      requires: [{ table, columns: [] }],
      sql: `SELECT count(*) AS count FROM ${t(table)}`,
      message: (count) => `${count} row(s) of demo data in ${table}`,
    })),
    ...['users', 'clients'].map((table): AuditCheck => ({
      code: 'DEMO_ACCOUNT_PRESENT',
      severity: 'warning',
      table,
      column: 'email',
      requires: [{ table, columns: ['id', 'email'] }],
      // The predicate of db:clean's demo-users/demo-clients rules, so that both count the same accounts.
      sql: countWithSampleSql(`FROM ${t(table)} WHERE ${DEMO_EMAIL_PREDICATE}`, 'id::text'),
      parameters: [context.testEmailDomains],
      message: (count) =>
        `${count} ${table} row(s) on a demo e-mail domain (${context.testEmailDomains.join(', ')}); db:clean --rule demo-${table} shows what goes with them`,
    })),
  ];
}

/** Orphans of references the monolith never enforced. */
export function orphanChecks(references: UnconstrainedReference[]): AuditCheck[] {
  return references.map((reference): AuditCheck => {
    if ('references' in reference) {
      return {
        code: 'ORPHAN_REFERENCE',
        severity: 'warning',
        table: reference.table,
        column: reference.column,
        requires: [
          { table: reference.table, columns: ['id', reference.column] },
          { table: reference.references, columns: ['id'] },
        ],
        sql: countWithSampleSql(
          `FROM ${t(reference.table)} c
              WHERE c.${q(reference.column)} IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM ${t(reference.references)} p WHERE p.id = c.${q(reference.column)})`,
          'c.id::text',
        ),
        message: (count) =>
          `${count} ${reference.table}.${reference.column} value(s) point at no ${reference.references} row`,
      };
    }
    const known = Object.entries(reference.targets);
    const branches = known
      .map(
        ([type, table]) =>
          `(c.${q(reference.typeColumn)} = '${type.replace(/'/g, "''")}' AND NOT EXISTS (SELECT 1 FROM ${t(table)} p WHERE p.id = c.${q(reference.column)}))`,
      )
      .join(' OR ');
    return {
      code: 'ORPHAN_REFERENCE',
      severity: 'warning',
      table: reference.table,
      column: reference.column,
      requires: [
        { table: reference.table, columns: ['id', reference.column, reference.typeColumn] },
        ...known.map(([, table]) => ({ table, columns: ['id'] })),
      ],
      sql: countWithSampleSql(
        `FROM ${t(reference.table)} c
            WHERE c.${q(reference.column)} IS NOT NULL AND (${branches})`,
        'c.id::text',
      ),
      message: (count) =>
        `${count} ${reference.table} row(s) whose ${reference.column} points at no row of its ${reference.typeColumn}`,
    };
  });
}

/** Cross-database references that dangle already in the monolith (the split must not add any). */
export function danglingChecks(references: CutReference[]): AuditCheck[] {
  return references.map((reference) => ({
    code: 'CROSS_DATABASE_REFERENCE_DANGLING',
    severity: 'warning',
    table: reference.from.sourceTable,
    column: reference.from.column,
    requires: [
      { table: reference.from.sourceTable, columns: ['id', reference.from.column] },
      { table: reference.to.sourceTable, columns: [reference.to.column] },
    ],
    sql: countWithSampleSql(
      `FROM ${t(reference.from.sourceTable)} c
          WHERE c.${q(reference.from.column)} IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ${t(reference.to.sourceTable)} p WHERE p.${q(reference.to.column)} = c.${q(reference.from.column)})`,
      'c.id::text',
    ),
    message: (count) =>
      `${count} ${reference.from.sourceTable}.${reference.from.column} value(s) already point at no ${reference.to.sourceTable} row ` +
      `(${reference.from.database} -> ${reference.to.database} after the split)`,
  }));
}
