import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { DEMO_TABLES, SESSION_EXPIRY_SQL } from '../plan/default-plan';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { highestParameter } from './sql-parameters';

/** The monolith before the split, or AUTH after it (the guide's periodic maintenance). */
export type CleanTarget = 'monolith' | 'auth';
export const CLEAN_TARGETS: readonly CleanTarget[] = ['monolith', 'auth'];

export type RuleValue = string | number | boolean | string[] | number[];

/** What a predicate's $n receives: a literal, or a setting of the validated configuration. */
export type RuleParameter = { value: RuleValue } | { setting: 'cleanTestEmailDomains' };

/** The rows of one table a rule selects: `predicate` is SQL over that table's columns, values come as $1..$n. */
export type RuleSelection = {
  schema: string;
  table: string;
  predicate: string;
  parameters: RuleParameter[];
};

export type CleanRule = {
  name: string;
  description: string;
  target: CleanTarget;
  selections: RuleSelection[];
  /** "built-in", or the rules file the rule came from. */
  origin: string;
};

/** A selection with its parameters resolved against the configuration. */
export type ResolvedSelection = {
  rule: string;
  schema: string;
  table: string;
  predicate: string;
  values: unknown[];
};

export const SESSION_RETENTION_DAYS = 7;
export const MFA_SESSION_RETENTION_DAYS = 7;
export const READ_NOTIFICATION_RETENTION_DAYS = 90;

/**
 * An e-mail address on one of the demo domains given as $1: its domain, the text after its last
 * "@" lower-cased, is one of them. Written as "ends with @ and the domain": configured domains are
 * host names (no "@", no LIKE wildcard), so that is the same test without a regular expression per
 * row (a quarter of the cost on 200,000 clients). Whole domains only: `contact@contest.fr` or
 * `alice.test@topsteel.fr` never match "test.local" or "example.com", nor does a sub-domain. The
 * audit and the pre-flight count demo accounts with it.
 */
export const DEMO_EMAIL_PREDICATE = `lower(email) LIKE ANY (ARRAY(SELECT '%@' || domain FROM unnest($1::text[]) AS domain))`;

/** "Now" is the transaction's start time in UTC (clean sessions run with TimeZone = UTC). */
const olderThanDays = (column: string): string => `${column} < localtimestamp - make_interval(days => $1)`;

const everyRow = (table: string): RuleSelection => ({
  schema: 'public',
  table,
  predicate: 'true',
  parameters: [],
});

/** A built-in rule that selects rows of one public table. */
const oneTableRule = (
  rule: Pick<CleanRule, 'name' | 'description' | 'target'>,
  table: string,
  predicate: string,
  parameters: RuleParameter[],
): CleanRule => ({
  ...rule,
  selections: [{ schema: 'public', table, predicate, parameters }],
  origin: 'built-in',
});

const DEMO_DOMAINS: RuleParameter[] = [{ setting: 'cleanTestEmailDomains' }];

/** The default rules, as data. Each one names its table and the exact predicate it deletes by. */
export const DEFAULT_CLEAN_RULES: readonly CleanRule[] = [
  {
    name: 'test-tables',
    description: 'every row of the test_* demo tables (the plan leaves them out of the split)',
    target: 'monolith',
    selections: DEMO_TABLES.map(everyRow),
    origin: 'built-in',
  },
  oneTableRule(
    {
      name: 'expired-sessions',
      description: `sessions ended or expired more than ${SESSION_RETENTION_DAYS} days ago; a session ends at its "logoutTime", else at its "lastActivity" once it is not active, else 24 h after its "lastActivity" (the expires_at of the split)`,
      target: 'monolith',
    },
    'user_sessions',
    olderThanDays(`(${SESSION_EXPIRY_SQL.replace(/\s+/g, ' ')})`),
    [{ value: SESSION_RETENTION_DAYS }],
  ),
  oneTableRule(
    {
      name: 'expired-mfa-sessions',
      description: `MFA challenges whose "expiresAt" is more than ${MFA_SESSION_RETENTION_DAYS} days past`,
      target: 'monolith',
    },
    'mfa_session',
    olderThanDays('"expiresAt"'),
    [{ value: MFA_SESSION_RETENTION_DAYS }],
  ),
  oneTableRule(
    {
      name: 'old-read-notifications',
      description: `notifications marked read, sent more than ${READ_NOTIFICATION_RETENTION_DAYS} days ago and read by nobody in the last ${READ_NOTIFICATION_RETENTION_DAYS} days (their notification_reads go with them; unread ones are kept whatever their age)`,
      target: 'monolith',
    },
    'notifications',
    `read AND ${olderThanDays('sent_at')} AND NOT EXISTS (SELECT 1 FROM public.notification_reads AS r WHERE r.notification_id = notifications.id AND r.read_at >= localtimestamp - make_interval(days => $1))`,
    [{ value: READ_NOTIFICATION_RETENTION_DAYS }],
  ),
  oneTableRule(
    {
      name: 'demo-users',
      description:
        'users whose e-mail domain (after the last "@", whole, case-insensitive) is one of CLEAN_TEST_EMAIL_DOMAINS, with everything ON DELETE CASCADE takes along',
      target: 'monolith',
    },
    'users',
    DEMO_EMAIL_PREDICATE,
    DEMO_DOMAINS,
  ),
  oneTableRule(
    {
      name: 'demo-clients',
      description:
        'clients whose e-mail domain is one of CLEAN_TEST_EMAIL_DOMAINS, with their projects, quotes, orders and invoices (ON DELETE CASCADE)',
      target: 'monolith',
    },
    'clients',
    DEMO_EMAIL_PREDICATE,
    DEMO_DOMAINS,
  ),
  oneTableRule(
    {
      name: 'expired-sessions',
      description: `AUTH sessions whose expires_at is more than ${SESSION_RETENTION_DAYS} days past (the guide's periodic rule)`,
      target: 'auth',
    },
    'user_sessions',
    olderThanDays('expires_at'),
    [{ value: SESSION_RETENTION_DAYS }],
  ),
  oneTableRule(
    {
      name: 'expired-mfa-sessions',
      description: `AUTH MFA challenges whose "expiresAt" is more than ${MFA_SESSION_RETENTION_DAYS} days past`,
      target: 'auth',
    },
    'mfa_session',
    olderThanDays('"expiresAt"'),
    [{ value: MFA_SESSION_RETENTION_DAYS }],
  ),
];

/**
 * The rules to run: every rule of the target when no name is given, else exactly the named ones.
 * An unknown name is a usage error that lists the valid ones.
 */
export function selectRules(rules: readonly CleanRule[], target: CleanTarget, names?: string[]): CleanRule[] {
  const available = rules.filter((rule) => rule.target === target);
  if (!names || names.length === 0) return available;
  const unknown = [...new Set(names)].filter((name) => !available.some((rule) => rule.name === name));
  if (unknown.length > 0) {
    throw new CleanException(
      CleanExceptionCode.UnknownRule,
      `unknown rule${unknown.length > 1 ? 's' : ''} for --target ${target}: ${unknown.join(', ')}; valid rules: ${available.map((rule) => rule.name).join(', ')}`,
      { unknown, valid: available.map((rule) => rule.name) },
    );
  }
  return available.filter((rule) => names.includes(rule.name));
}

/** Parameters resolved against the configuration (the demo domains come from CLEAN_TEST_EMAIL_DOMAINS). */
export function resolveSelections(
  rule: CleanRule,
  config: Pick<MultiTenantDatabaseConfig, 'cleanTestEmailDomains'>,
): ResolvedSelection[] {
  return rule.selections.map((selection) => ({
    rule: rule.name,
    schema: selection.schema,
    table: selection.table,
    predicate: selection.predicate,
    values: selection.parameters.map((parameter) =>
      'setting' in parameter ? config[parameter.setting] : parameter.value,
    ),
  }));
}

/** What a report shows of a rule: its tables, predicates and resolved values. */
export function describeRule(
  rule: CleanRule,
  config: Pick<MultiTenantDatabaseConfig, 'cleanTestEmailDomains'>,
): { table: string; predicate: string; parameters: unknown[] }[] {
  return resolveSelections(rule, config).map((selection) => ({
    table: `${selection.schema}.${selection.table}`,
    predicate: selection.predicate,
    parameters: selection.values,
  }));
}

/** Built-in rules plus the ones of a rules file; a name may not be defined twice for one target. */
export function mergeRules(base: readonly CleanRule[], extra: CleanRule[]): CleanRule[] {
  for (const rule of extra) {
    if (base.some((existing) => existing.target === rule.target && existing.name === rule.name)) {
      throw new CleanException(
        CleanExceptionCode.InvalidRulesFile,
        `${rule.origin}: rule "${rule.name}" already exists for --target ${rule.target}`,
      );
    }
  }
  return [...base, ...extra];
}

/** Checks that a predicate uses no parameter beyond the ones it declares. */
export function assertParameters(rule: string, predicate: string, count: number, origin: string): void {
  const highest = highestParameter(predicate);
  if (highest > count) {
    throw new CleanException(
      CleanExceptionCode.InvalidRulesFile,
      `${origin}: rule "${rule}" uses $${highest} but declares ${count} parameter(s)`,
    );
  }
}
