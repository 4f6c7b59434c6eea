import { Figure } from './measure';
import { OnlineFigures } from './online.scenario';

type Target = { name: string; target: string; measured: string; ok: boolean };

/** The write pause the issues set for the cutover (and the online split's default --max-pause-ms). */
const MAX_PAUSE_MS = 5000;

/**
 * Issue 17's bar: the cutover pause (median and max over runs) within 5 s and no lost write at every
 * scale; across scales, the pause must not grow with the data (median at the largest scale within
 * twice the smallest's plus 1 s, an allowance for a shared machine). Issue 18: the rollback after an
 * online split loses nothing; its pause is measured, with no bar in the issue.
 */
export function onlineTargets(online: OnlineFigures[]): Target[] {
  const list: Target[] = [];
  for (const scale of online) {
    const stalled = scale.runs.filter((run) => !run.converged).length;
    const pause = scale.online.pauseMs;
    list.push({
      name: `online split at scale ${scale.scale} under ${scale.rate} tx/s: cutover pause, median / max of ${scale.runs.length} run(s)`,
      target: `≤ ${MAX_PAUSE_MS} ms, every run cuts over`,
      measured:
        (pause ? `${pause.median} / ${pause.max} ms` : 'no cutover') +
        (stalled > 0
          ? `; ${stalled} run(s) still behind after ${scale.followLimitS} s of following (apply ${scale.online.applyRate.median} changes/s)`
          : ''),
      ok: stalled === 0 && pause !== null && pause.max <= MAX_PAUSE_MS,
    });
    const measured = scale.runs.filter((run) => run.lost !== null);
    const lost = measured.reduce((sum, run) => sum + (run.lost ?? 0), 0);
    list.push({
      name: `online split at scale ${scale.scale}: committed writes missing from the new databases`,
      target: '0',
      measured: measured.length > 0 ? String(lost) : 'not measured (no cutover)',
      ok: measured.length > 0 && lost === 0,
    });
    const rollbacks = scale.runs.flatMap((run) => (run.rollback ? [run.rollback] : []));
    const rolledBack = rollbacks.reduce((sum, rollback) => sum + rollback.lost, 0);
    list.push({
      name: `rollback after the online split at scale ${scale.scale}: writes on the new databases missing from the monolith`,
      target: '0',
      measured: rollbacks.length > 0 ? String(rolledBack) : 'not measured (no cutover)',
      ok: rollbacks.length > 0 && rolledBack === 0,
    });
  }
  if (online.length >= 2) {
    const [small, large] = [online[0].online.pauseMs, online[online.length - 1].online.pauseMs];
    const scales = `${online[0].scale} → ${online[online.length - 1].scale}`;
    if (!small || !large)
      return [
        ...list,
        { name: `cutover pause vs scale (${scales})`, target: 'flat', measured: 'no cutover', ok: false },
      ];
    const bound = 2 * small.median + 1000;
    list.push({
      name: `cutover pause does not grow with the scale (${scales})`,
      target: `≤ 2 × ${small.median} + 1000 ms`,
      measured: `${large.median} ms`,
      ok: large.median <= bound,
    });
  }
  return list;
}

const range = (figure: Figure | null, digits = 0) =>
  figure
    ? `${figure.median.toFixed(digits)} (${figure.min.toFixed(digits)}–${figure.max.toFixed(digits)})`
    : '–';

export function renderOnline(online: OnlineFigures[]): string[] {
  const lines = [
    `Online split under a steady write load, on its own cluster with wal_level=logical; median (min–max) over runs:`,
    '',
    '| scale | monolith | offline db:migrate s | online db:migrate s | online ÷ offline | cutover pause ms | changes applied | apply rate changes/s | load committed (tx/s over the whole load; until its last commit) / refused | lost | rollback pause ms | rollback load committed / refused | rollback lost |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const scale of online) {
    const committed = scale.runs.reduce((sum, run) => sum + run.load.committed, 0);
    const refused = scale.runs.reduce((sum, run) => sum + run.load.refused, 0);
    const perSecond = scale.runs.map((run) => run.load.committedPerSecond).join(', ');
    const whileOpen = scale.runs.map((run) => run.load.committedPerSecondWhileOpen ?? '?').join(', ');
    const rollbacks = scale.runs.flatMap((run) => (run.rollback ? [run.rollback] : []));
    const rollbackCommitted = rollbacks.reduce((sum, rollback) => sum + rollback.load.committed, 0);
    const rollbackRefused = rollbacks.reduce((sum, rollback) => sum + rollback.load.refused, 0);
    const converged = scale.runs.filter((run) => run.converged).length;
    const cells = [
      String(scale.scale),
      `${scale.monolithMb} MB`,
      range(scale.offline, 2),
      range(scale.online.total, 2),
      `${(scale.online.total.median / scale.offline.median).toFixed(2)}×`,
      `${range(scale.online.pauseMs)}${scale.online.verifyAfterPauseMs ? ` (then ${range(scale.online.verifyAfterPauseMs)} full verification)` : ''}${converged < scale.runs.length ? ` (${converged}/${scale.runs.length} runs cut over)` : ''}`,
      range(scale.online.changesApplied),
      range(scale.online.applyRate),
      `${committed} (${perSecond}; until the last commit ${whileOpen}) / ${refused}`,
      converged > 0 ? String(scale.runs.reduce((sum, run) => sum + (run.lost ?? 0), 0)) : '–',
      range(scale.rollbackPauseMs),
      `${rollbackCommitted} / ${rollbackRefused}`,
      rollbacks.length > 0 ? String(rollbacks.reduce((sum, rollback) => sum + rollback.lost, 0)) : '–',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const unexpected = online.flatMap((scale) =>
    scale.runs.flatMap((run) => [...run.load.unexpected, ...(run.rollback?.load.unexpected ?? [])]),
  );
  if (unexpected.length > 0) lines.push('', `Unexpected load errors: ${unexpected.join(' · ')}`);
  lines.push(
    '',
    `Load: ${online[0]?.rate ?? 0} transactions/s target over 8 connections (each on the monolith: insert a client, update another, insert a trace (tracabilite), every third deletes the previous trace, insert a material, update a user; on the new databases the same spread over the tenant, SHARED and AUTH). Refused = rejected during the pause or once read-only: not committed, so not a loss.`,
  );
  return lines;
}
