import { ResolvedPlan } from './resolved-plan.types';

/**
 * What changed in the source catalogue since the plan was resolved: a table that appeared (and is
 * not excluded), one that vanished, or a column list that is no longer the one the copy projects.
 * The pre-flight reads the live catalogue; the copy and the verification read snapshots taken later,
 * so each of them checks that the plan still describes what they see.
 */
export function planDrift(
  plan: ResolvedPlan,
  tables: { schema: string; name: string; columns: string[] }[],
): string[] {
  const problems: string[] = [];
  const excluded = new Set(plan.excluded.map((exclusion) => exclusion.source));
  const tasks = new Map(plan.tasks.map((task) => [task.source, task]));
  for (const table of tables) {
    const name = table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;
    const task = table.schema === 'public' ? tasks.get(table.name) : undefined;
    if (!task) {
      if (!excluded.has(name))
        problems.push(`table ${name} appeared after the pre-flight and is not in the plan`);
      continue;
    }
    const planned = task.columns.map((column) => column.name);
    if (planned.join('\u0000') !== table.columns.join('\u0000')) {
      problems.push(`the columns of ${name} changed after the pre-flight (now ${table.columns.join(', ')})`);
    }
  }
  for (const task of plan.tasks) {
    if (!tables.some((table) => table.schema === 'public' && table.name === task.source))
      problems.push(`table ${task.source} disappeared after the pre-flight`);
  }
  return problems;
}
