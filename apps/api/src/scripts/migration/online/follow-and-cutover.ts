import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { SchemaKind } from '../../../database/migrations/migration-sets';
import { HeldLock } from '../../../modules/database/migration-lock.service';
import { DatabaseLocation } from '../../../modules/database/postgres-connection.factory';
import { ResolvedPlan } from '../plan/plan-resolver';
import { releaseClients } from '../snapshot/exported-snapshot';
import { AppliedProgress } from './applied-progress';
import { ChangeApplier } from './change-applier';
import { ChangeStream } from './change-stream';
import { attemptCutover, CutoverPhases } from './cutover';
import { Follower, reportLag } from './follower';
import { ONLINE_APPLICATION, OnlineNames, releaseSlot } from './monolith-objects';
import { OnlineDependencies, OnlineOptions } from './online-dependencies';
import { OnlineJournal, OnlineState } from './online-journal';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';

export type CutoverReport = {
  attempts: number;
  /** How long writes on the monolith were blocked: the pause only. */
  pauseMs: number;
  /** The pause's parts (write locks, drain, sequences, target snapshots, check by key, read-only). */
  phasesMs: CutoverPhases;
  changesApplied: number;
  verifiedTables: string[];
  /** Rows verified by key in the pause. */
  verifiedKeys: number;
  /** Changed tables verified whole in the pause (keys past the cap, no usable key, TRUNCATE, a rerun). */
  verifiedWholeTables: string[];
  /** The full verification of every table after the pause (monolith frozen, targets as at the cutover). */
  verifyAfterPauseMs: number;
};

/** A completed cutover, and the targets frozen as they were then (the caller ends those sessions). */
export type CutoverDone = {
  report: Omit<CutoverReport, 'verifyAfterPauseMs'>;
  frozenTargets: Map<SchemaKind, Client>;
};

type Prepared = { locations: Record<SchemaKind, DatabaseLocation>; societeId: string };

type FollowContext = {
  names: OnlineNames;
  plan: ResolvedPlan;
  prepared: Prepared;
  options: OnlineOptions;
  run: RunContext;
  lock: HeldLock;
};

/** What following holds open: the applier's target sessions, the journal, the probe, the stream. */
type FollowSessions = {
  applier: ChangeApplier;
  online: OnlineJournal;
  state: OnlineState | null;
  progress: AppliedProgress;
  follower: Follower;
  close(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follows the monolith's changes until a cutover succeeds: when the lag is under --max-lag-ms
 * (auto) or when db:cutover asks (manual). An aborted attempt lets writes resume and follows on.
 */
export async function followAndCutOver(
  dependencies: OnlineDependencies,
  context: FollowContext,
): Promise<CutoverDone> {
  const { options, run, lock } = context;
  const sessions = await openFollow(dependencies, context);
  const { online, state, follower } = sessions;
  run.info(
    `Following the monolith's changes (cutover ${options.cutover}, max lag ${options.maxLagMs} ms, max pause ${options.maxPauseMs} ms).`,
  );
  const cutover = { attempts: state?.cutoverAttempts ?? 0 };
  try {
    for (let tick = 0; ; tick++) {
      if (follower.error) throw follower.error;
      run.shutdown.throwIfRequested();
      lock.assertHeld();
      await follower.probe();
      await sleep(200);
      const lag = follower.lagMs();
      if (tick % 5 === 0) await reportLag(online, follower, lag, run);
      const wanted =
        options.cutover === 'auto'
          ? lag < options.maxLagMs
          : (await online.read())?.cutoverRequestedAt != null;
      if (!wanted) continue;
      cutover.attempts++;
      const done = await tryCutover(dependencies, context, sessions, cutover.attempts);
      if (done) return done;
      if (options.cutover === 'auto') await sleep(Math.min(5000, 500 * cutover.attempts));
    }
  } finally {
    await sessions.close();
  }
}

async function openFollow(dependencies: OnlineDependencies, context: FollowContext): Promise<FollowSessions> {
  const { connections, configService } = dependencies;
  const { names, plan, prepared, run } = context;
  const monolith = { database: configService.config.monolithDatabase };
  const applier = await ChangeApplier.connect(connections, prepared.locations, {
    tasks: plan.tasks,
    slot: names.slot,
    societeId: prepared.societeId,
  });
  const opened: Client[] = [];
  try {
    const journalClient = await connections.connect(
      { database: configService.config.authDatabase },
      { applicationName: `${ONLINE_APPLICATION}-journal` },
    );
    opened.push(journalClient);
    const probeSession = await connections.connect(monolith, {
      applicationName: `${ONLINE_APPLICATION}-probe`,
    });
    opened.push(probeSession);
    await probeSession.query('SET default_transaction_read_only = off');
    await releaseSlot(probeSession, names.slot);
    const online = new OnlineJournal(journalClient);
    const state = await online.read();
    const progress = new AppliedProgress(online, applier.touchedTables);
    const stream = new ChangeStream(
      connections.clientConfig(monolith, { applicationName: `${ONLINE_APPLICATION}-follow` }),
    );
    const follower = new Follower(stream, applier, probeSession, names, run, (lsn, changes, lagMs) =>
      progress.applied(lsn, changes, lagMs),
    );
    follower.start();
    const close = async () => {
      await follower.stop();
      await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
    };
    return { applier, online, state, progress, follower, close };
  } catch (error) {
    await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
    throw error;
  }
}

/** One cutover attempt: the report when it completed, null when it was aborted (writes resumed). */
async function tryCutover(
  dependencies: OnlineDependencies,
  context: FollowContext,
  sessions: FollowSessions,
  attempts: number,
): Promise<CutoverDone | null> {
  const { run } = context;
  const { online, state, follower, progress } = sessions;
  await online.update({ phase: 'cutover', cutoverAttempts: attempts });
  const outcome = await attempt(dependencies, context, sessions);
  if (outcome.ok) {
    // The frozen targets are the caller's once returned; until then, a failure here must end them.
    try {
      await progress.flush(follower.appliedLsn);
      await online.update({ pauseMs: outcome.pauseMs });
    } catch (error) {
      await releaseClients([...outcome.frozenTargets.values()]);
      throw error;
    }
    run.info(
      `Cutover done: writes paused ${outcome.pauseMs} ms (${Object.entries(outcome.phasesMs)
        .map(([phase, ms]) => `${phase} ${ms}`)
        .join(
          ', ',
        )}), ${outcome.verifiedTables.length} changed table(s) verified (${outcome.keyedRows} row(s) by key, ${outcome.wholeTables.length} table(s) whole).`,
    );
    return {
      report: {
        attempts,
        pauseMs: outcome.pauseMs,
        phasesMs: outcome.phasesMs,
        changesApplied: (state?.changesApplied ?? 0) + follower.changesApplied,
        verifiedTables: outcome.verifiedTables,
        verifiedKeys: outcome.keyedRows,
        verifiedWholeTables: outcome.wholeTables,
      },
      frozenTargets: outcome.frozenTargets,
    };
  }
  if (outcome.reason.startsWith('verification failed'))
    throw new OnlineSplitException(
      OnlineSplitExceptionCode.CutoverFailed,
      `cutover attempt ${attempts}: ${outcome.reason}`,
    );
  run.info(
    `Cutover attempt ${attempts} aborted after ${outcome.pauseMs} ms (${outcome.reason}); writes resumed, following again.`,
  );
  await online.update({ phase: 'following', cutoverOutcome: 'aborted', cutoverRequestedAt: null });
  return null;
}

function attempt(
  dependencies: OnlineDependencies,
  context: FollowContext,
  sessions: FollowSessions,
): ReturnType<typeof attemptCutover> {
  const { configService, connections } = dependencies;
  const previous = sessions.state?.changedTables ?? [];
  return attemptCutover({
    connections,
    monolith: { database: configService.config.monolithDatabase },
    maintenance: { database: configService.config.maintenanceDatabase },
    locations: context.prepared.locations,
    tasks: context.plan.tasks,
    societeId: context.prepared.societeId,
    maxPauseMs: context.options.maxPauseMs,
    changedTables: () => [...new Set([...previous, ...sessions.applier.touchedTables])],
    // Keys of changes applied before a rerun are not known: those tables are verified whole.
    changedRows: (table) =>
      previous.includes(table) ? { kind: 'whole' } : sessions.applier.changedKeys.of(table),
    drainedTo: (marker, deadline) => sessions.follower.drainedTo(marker, deadline),
  });
}
