import { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BenchInstallation, CLI, Server } from './bench-environment';
import { figure, Figure, round, run } from './measure';
import { ensureMonolith, migrateOnce } from './split.scenario';
import {
  emptyLedger,
  LoadFigures,
  LoadPools,
  LoadTarget,
  missingFromLedger,
  startWriteLoad,
} from './write-load';

/** db:rollback --yes after the online split, under load on the new databases. */
export type RollbackRun = {
  seconds: number;
  pauseMs: number;
  /** The pause's parts as db:rollback reports them (block, drain, level, verify), null when it does not. */
  phasesMs: Record<string, number> | null;
  load: LoadFigures;
  lost: number;
};

/** One online split under load, then a rollback under load on the new databases. */
export type OnlineRun = {
  seconds: number;
  /** False when the follow did not cut over within the limit under the load (then no pause, no rollback). */
  converged: boolean;
  pauseMs: number | null;
  /** The pause's parts (cutover.phasesMs: lock, drain, sequences, freeze, verify, readOnly). */
  pausePhasesMs: Record<string, number> | null;
  /** The full verification after the pause (cutover.verifyAfterPauseMs): not part of the pause. */
  verifyAfterPauseMs: number | null;
  /** Rows verified by key in the pause, and the changed tables verified whole there. */
  verifiedKeys: number | null;
  verifiedWholeTables: string[];
  attempts: number;
  changesApplied: number;
  /** From "Following the monolith's changes" to "Cutover done", wall clock. */
  followSeconds: number;
  applyRate: number;
  load: LoadFigures;
  /** Effects of transactions committed on the monolith that the new databases do not hold. */
  lost: number | null;
  rollback: RollbackRun | null;
};

export type OnlineFigures = {
  scale: number;
  monolithMb: number;
  rate: number;
  /** db:migrate (offline, backup taken) on the same data and cluster. */
  offline: Figure;
  /** Pause and changes over the runs that cut over; null when none did. */
  online: {
    total: Figure;
    pauseMs: Figure | null;
    verifyAfterPauseMs: Figure | null;
    applyRate: Figure;
    changesApplied: Figure;
  };
  rollbackPauseMs: Figure | null;
  followLimitS: number;
  runs: OnlineRun[];
};

type OnlineDocument = {
  cutover: {
    pauseMs: number;
    phasesMs?: Record<string, number>;
    attempts: number;
    changesApplied: number;
    verifyAfterPauseMs: number;
    verifiedKeys: number;
    verifiedWholeTables: string[];
  };
  verification: { ok: boolean };
};

const log = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WORKERS = 8;

/** Existing rows the load updates, each worker its own, so that "last committed value" is well defined. */
async function loadPools(installation: BenchInstallation): Promise<LoadPools> {
  const ids = async (table: string, count: number) =>
    (
      await installation.query<{ id: string }>(
        installation.monolith,
        `SELECT id::text AS id FROM ${table} WHERE deleted_at IS NULL ORDER BY id LIMIT ${count}`,
      )
    ).map((row) => row.id);
  return { clientIds: await ids('clients', 64), userIds: await ids('users', 16) };
}

/** What the split's progress lines say while it follows: when, and how many changes applied so far. */
type FollowWatch = {
  following?: number;
  cutover?: number;
  progress: { at: number; changes: number }[];
  onStderr(text: string): void;
};

function watchFollow(): FollowWatch {
  let pending = '';
  const watch: FollowWatch = {
    progress: [],
    onStderr: (text) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const now = Date.now();
        if (watch.following === undefined && line.includes("Following the monolith's changes"))
          watch.following = now;
        if (watch.cutover === undefined && line.includes('Cutover done')) watch.cutover = now;
        const applied = /following: lag .*?, (\d+) change\(s\) applied/.exec(line);
        if (applied) watch.progress.push({ at: now, changes: Number(applied[1]) });
      }
    },
  };
  return watch;
}

/** Changes applied per second between the first and the last progress line of the follow. */
function applyRateOf(watch: FollowWatch, changesApplied: number, followSeconds: number): number {
  const [first, last] = [watch.progress[0], watch.progress[watch.progress.length - 1]];
  if (first && last && last.at - first.at >= 2000)
    return round((last.changes - first.changes) / ((last.at - first.at) / 1000));
  return round(changesApplied / followSeconds);
}

/**
 * The online split while ~rate transactions/s commit on the monolith; checks every one arrived. A
 * follow that has not cut over after `followLimitS` is interrupted (Ctrl-C: the tool takes its slot
 * and publication down): the run is recorded as not converged, with the apply rate it reached.
 */
async function onlineSplitUnderLoad(
  installation: BenchInstallation,
  rate: number,
  label: string,
  followLimitS: number,
): Promise<Omit<OnlineRun, 'rollback'>> {
  const pools = await loadPools(installation);
  const ledger = emptyLedger();
  const load = startWriteLoad({
    route: () => ({ server: installation.server, database: installation.monolith }),
    targets: ['monolith'],
    rate,
    workers: WORKERS,
    pools,
    label,
    ledger,
  });
  await sleep(1000);
  const watch = watchFollow();
  let figures: LoadFigures | undefined;
  let limit: NodeJS.Timeout | undefined;
  let interrupted = false;
  let child: ChildProcess | undefined;
  const result = await run(
    process.execPath,
    [CLI, 'migrate', '--online', '--json', '--verbose'],
    installation.env(),
    {
      onStderr: (text) => {
        const wasFollowing = watch.following !== undefined;
        watch.onStderr(text);
        if (!wasFollowing && watch.following !== undefined)
          limit = setTimeout(() => {
            if (watch.cutover !== undefined) return;
            interrupted = true;
            child?.kill('SIGINT');
          }, followLimitS * 1000);
      },
      onSpawn: (spawned) => (child = spawned),
    },
  ).finally(async () => {
    clearTimeout(limit);
    figures = await load.stop();
  });
  const followEnd = watch.cutover ?? Date.now();
  const followSeconds = watch.following !== undefined ? (followEnd - watch.following) / 1000 : NaN;
  const base = { seconds: round(result.seconds), load: figures as LoadFigures };
  if (interrupted) {
    const applied = watch.progress[watch.progress.length - 1]?.changes ?? 0;
    return {
      ...base,
      converged: false,
      pauseMs: null,
      pausePhasesMs: null,
      verifyAfterPauseMs: null,
      verifiedKeys: null,
      verifiedWholeTables: [],
      attempts: 0,
      changesApplied: applied,
      followSeconds: round(followSeconds),
      applyRate: applyRateOf(watch, applied, followSeconds),
      lost: null,
    };
  }
  if (result.code !== 0)
    throw new Error(`db:migrate -- --online failed (exit ${result.code}):\n${result.stderr.slice(-4000)}`);
  const document = JSON.parse(result.stdout) as OnlineDocument;
  const following = round(followSeconds - document.cutover.pauseMs / 1000);
  const lost = await missingFromLedger(
    ledger,
    {
      clients: installation.tenant,
      users: installation.auth,
      materials: { database: installation.shared, table: 'shared_materials' },
    },
    (database, sql, parameters) => installation.query(database, sql, parameters),
  );
  return {
    ...base,
    converged: true,
    pauseMs: document.cutover.pauseMs,
    pausePhasesMs: document.cutover.phasesMs ?? null,
    verifyAfterPauseMs: document.cutover.verifyAfterPauseMs,
    verifiedKeys: document.cutover.verifiedKeys,
    verifiedWholeTables: document.cutover.verifiedWholeTables,
    attempts: document.cutover.attempts,
    changesApplied: document.cutover.changesApplied,
    followSeconds: following,
    applyRate: applyRateOf(watch, document.cutover.changesApplied, following),
    lost,
  };
}

/** Writes on AUTH, SHARED and the tenant database while `db:rollback --yes` runs; checks the monolith. */
async function rollbackUnderLoad(
  installation: BenchInstallation,
  rate: number,
  label: string,
): Promise<RollbackRun> {
  const [societe] = await installation.query<{ societe_id: string }>(
    installation.tenant,
    'SELECT societe_id::text FROM clients LIMIT 1',
  );
  const pools = { ...(await loadPools(installation)), societeId: societe.societe_id };
  const databases: Record<LoadTarget, string> = {
    monolith: installation.monolith,
    tenant: installation.tenant,
    shared: installation.shared,
    auth: installation.auth,
  };
  const ledger = emptyLedger();
  const load = startWriteLoad({
    route: (target) => ({ server: installation.server, database: databases[target] }),
    targets: ['tenant', 'shared', 'auth'],
    rate,
    workers: WORKERS,
    pools,
    label,
    ledger,
  });
  // Long enough for the subscriptions to carry a steady stream, as an application would write.
  await sleep(10000);
  let figures: LoadFigures | undefined;
  const result = await run(
    process.execPath,
    [CLI, 'rollback', '--yes', '--json'],
    installation.env(),
  ).finally(async () => {
    figures = await load.stop();
  });
  if (result.code !== 0)
    throw new Error(`db:rollback --yes failed (exit ${result.code}):\n${result.stderr.slice(-4000)}`);
  const document = JSON.parse(result.stdout) as {
    rollback: { pauseMs: number | null; reverseSync?: { phasesMs?: Record<string, number> | null } | null };
  };
  const lost = await missingFromLedger(
    ledger,
    {
      clients: installation.monolith,
      users: installation.monolith,
      materials: { database: installation.monolith, table: 'materiaux' },
    },
    (database, sql, parameters) => installation.query(database, sql, parameters),
  );
  return {
    seconds: round(result.seconds),
    pauseMs: document.rollback.pauseMs ?? NaN,
    phasesMs: document.rollback.reverseSync?.phasesMs ?? null,
    load: figures as LoadFigures,
    lost,
  };
}

const figureOf = (values: number[]): Figure | null => (values.length > 0 ? figure(values) : null);

/** After an interrupted online split: its partial targets go, and no slot may keep retaining WAL. */
async function abandoned(installation: BenchInstallation): Promise<void> {
  await installation.dropTargets();
  const slots = await installation.query<{ slot_name: string }>(
    'postgres',
    'SELECT slot_name FROM pg_replication_slots WHERE database = $1',
    [installation.monolith],
  );
  if (slots.length > 0)
    throw new Error(`the interrupted online split left ${slots.map((slot) => slot.slot_name).join(', ')}`);
}

/**
 * Issues 17 and 18 at one scale, on a cluster with wal_level = logical: the offline split of the
 * same data, then `runs` × (online split under load, rollback under load). Every run starts without
 * a backup, so the offline and the online split both take theirs.
 */
export async function onlineScenario(
  server: Server,
  scale: number,
  runs: number,
  rate: number,
  followLimitS: number,
): Promise<OnlineFigures> {
  const installation = new BenchInstallation(server, `online_s${String(scale).replace('.', '_')}`);
  const backups = join(installation.directory, 'backups');
  try {
    await ensureMonolith(installation, scale);
    const [size] = await installation.query<{ size: string }>(
      'postgres',
      'SELECT pg_database_size($1) AS size',
      [installation.monolith],
    );
    log(`  offline db:migrate on the same cluster (${runs} runs)`);
    const offline: number[] = [];
    for (let index = 0; index < runs; index++) {
      rmSync(backups, { recursive: true, force: true });
      offline.push((await migrateOnce(installation)).seconds);
    }
    await installation.dropTargets();
    const results: OnlineRun[] = [];
    for (let index = 0; index < runs; index++) {
      rmSync(backups, { recursive: true, force: true });
      const label = `b${Date.now().toString(36)}`;
      log(`  online split under ${rate} tx/s, run ${index + 1}/${runs}`);
      const online = await onlineSplitUnderLoad(installation, rate, `${label}m`, followLimitS);
      log(
        online.converged
          ? `    pause ${online.pauseMs} ms${phasesText(online.pausePhasesMs)} (${online.verifiedKeys} rows by key, whole: ${online.verifiedWholeTables.join(', ') || 'none'}), then ${online.verifyAfterPauseMs} ms of full verification; ${online.changesApplied} changes at ${online.applyRate}/s, ${online.load.committed} committed, lost ${online.lost}`
          : `    no cutover after ${followLimitS} s of following: ${online.applyRate} changes/s applied, ${online.load.committedPerSecond} tx/s committed; interrupted`,
      );
      let rollback: OnlineRun['rollback'] = null;
      if (online.converged) {
        log('  db:rollback --yes under load on the new databases');
        const done = await rollbackUnderLoad(installation, rate, `${label}r`);
        log(
          `    pause ${done.pauseMs} ms${phasesText(done.phasesMs)}, ${done.load.committed} committed, lost ${done.lost}`,
        );
        rollback = done;
      } else await abandoned(installation);
      results.push({ ...online, rollback });
    }
    const converged = results.filter((entry) => entry.converged);
    return {
      scale,
      monolithMb: Math.round(Number(size.size) / 1048576),
      rate,
      offline: figure(offline),
      online: {
        total: figure(results.map((entry) => entry.seconds)),
        pauseMs: figureOf(converged.map((entry) => entry.pauseMs ?? NaN)),
        verifyAfterPauseMs: figureOf(converged.map((entry) => entry.verifyAfterPauseMs ?? NaN)),
        applyRate: figure(results.map((entry) => entry.applyRate)),
        changesApplied: figure(results.map((entry) => entry.changesApplied)),
      },
      rollbackPauseMs: figureOf(converged.map((entry) => entry.rollback?.pauseMs ?? NaN)),
      followLimitS,
      runs: results,
    };
  } finally {
    await installation.dropTargets().catch(() => undefined);
    rmSync(installation.directory, { recursive: true, force: true });
  }
}

/** " (lock 12, drain 80, …)" for a pause's phases, or nothing when the report has none. */
function phasesText(phases: Record<string, number> | null): string {
  if (!phases) return '';
  return ` (${Object.entries(phases)
    .map(([phase, ms]) => `${phase} ${ms}`)
    .join(', ')})`;
}
