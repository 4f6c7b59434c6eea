import { Client } from 'pg';
import { MultiTenantDatabaseConfig } from '../../../database/config/multi-tenant-database.config';
import { CleanException, CleanExceptionCode } from './clean.exception';
import { CleanRule, describeRule, ResolvedSelection, resolveSelections } from './clean-rules';
import { buildCascadePlan, CascadePlan } from './cascade-planner';
import { cascadeSql } from './cascade-sql';
import { ForeignKeyGraph } from './foreign-key-graph';
import { READ_ONLY_VIOLATION, readOnlyPlanning } from './read-only-planning';
import { EMPTY_SUMMARY, PlanSummary, refusals, summarize } from './plan-summary';

export type CleanRuleReport = {
  name: string;
  description: string;
  origin: string;
  selections: { table: string; predicate: string; parameters: unknown[] }[];
  /** This rule alone, cascades included. Rules may overlap; the totals count each row once. */
  summary: PlanSummary;
};

export type CleanAnalysis = {
  plan: CascadePlan;
  rules: CleanRuleReport[];
  totals: PlanSummary;
  refusals: string[];
  notes: string[];
};

type Settings = Pick<MultiTenantDatabaseConfig, 'cleanTestEmailDomains'>;

/**
 * Plans and counts, in the caller's transaction: each rule on its own (what it would take along),
 * then all of them together (what execute deletes, each row once). `materialize`, given by
 * execute, stores the combined plan's rows and returns the SQL that reads them back, so the
 * totals describe exactly the rows that will be archived and deleted. Every statement that
 * evaluates a predicate runs read-only (`readOnlyPlanning`; `materialize` does it itself).
 */
export async function analyzeRules(
  client: Client,
  graph: ForeignKeyGraph,
  rules: CleanRule[],
  settings: Settings,
  materialize?: (plan: CascadePlan) => Promise<string>,
): Promise<CleanAnalysis> {
  const notes: string[] = [];
  const reports: CleanRuleReport[] = [];
  for (const rule of rules) {
    const plan = buildCascadePlan(graph, resolveSelections(rule, settings));
    for (const table of plan.missingTables)
      notes.push(`rule ${rule.name}: table ${table} does not exist here; skipped`);
    const summary =
      rules.length > 1 && plan.deleted.length > 0
        ? await ruleQuery(rule.name, () =>
            readOnlyPlanning(client, () => summarize(client, plan, cascadeSql(plan), plan.parameters)),
          )
        : EMPTY_SUMMARY;
    reports.push({
      name: rule.name,
      description: rule.description,
      origin: rule.origin,
      selections: describeRule(rule, settings),
      summary,
    });
  }
  const selections: ResolvedSelection[] = rules.flatMap((rule) => resolveSelections(rule, settings));
  const plan = buildCascadePlan(graph, selections);
  let totals = EMPTY_SUMMARY;
  if (plan.deleted.length > 0) {
    const failing = rules.length === 1 ? rules[0].name : 'all rules together';
    totals = await ruleQuery(failing, async () => {
      if (materialize) return summarize(client, plan, await materialize(plan), []);
      return readOnlyPlanning(client, () => summarize(client, plan, cascadeSql(plan), plan.parameters));
    });
  }
  // One rule alone is the combined plan: no second query for it.
  if (rules.length === 1) reports[0].summary = totals;
  const counted = reports.reduce((sum, report) => sum + report.summary.deletedRows, 0);
  if (counted > totals.deletedRows)
    notes.push(
      `the rules overlap: ${counted - totals.deletedRows} row(s) are selected by more than one rule; the totals count each row once`,
    );
  return { plan, rules: reports, totals, refusals: refusals(plan, totals), notes };
}

async function ruleQuery<T>(rule: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // Connection, resource and lock problems are not the rule's fault: reported as they are.
    const sqlState = (error as { code?: unknown }).code;
    if (sqlState === READ_ONLY_VIOLATION)
      throw new CleanException(
        CleanExceptionCode.RuleWrites,
        `rule ${rule} tries to write (${error instanceof Error ? error.message : String(error)}); predicates are evaluated read-only`,
        { rule },
        { cause: error },
      );
    if (
      error instanceof CleanException ||
      typeof sqlState !== 'string' ||
      /^(08|53|55|57|58|40|XX)/.test(sqlState)
    )
      throw error;
    throw new CleanException(
      CleanExceptionCode.RuleFailed,
      `rule ${rule} failed: ${error instanceof Error ? error.message : String(error)}`,
      { rule },
      { cause: error },
    );
  }
}
