import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { ChangeApplier } from './change-applier';
import { ChangeStream, StreamEvent } from './change-stream';
import { CUTOVER_MESSAGE_PREFIX, DDL_MESSAGE_PREFIX, OnlineNames } from './monolith-objects';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';
import { OnlineJournal } from './online-journal';

const PROBE_PREFIX = 'topsteel-probe';

/** A batch commits after this many source transactions, or this long after its first one, whichever first. */
const BATCH_TRANSACTIONS = 500;
const BATCH_MS = 250;

/**
 * Fault injection for the specs only: kill -9 this process when a batch is sealed while the
 * previous one is still committing on the targets (not acknowledged yet).
 */
const CRASH_WITH_BATCH_IN_FLIGHT = process.env.TOPSTEEL_FAULT_CRASH_WITH_BATCH_IN_FLIGHT === '1';

type Batch = { transactions: number; changes: number; endLsn: string | null; commitTimeMs: number };

const emptyBatch = (): Batch => ({ transactions: 0, changes: 0, endLsn: null, commitTimeMs: 0 });

/**
 * Follows the slot: decoded transactions go to the applier in batches of consecutive source
 * transactions (one target transaction per target database per batch), and only once every target
 * committed a batch is its end position acknowledged to the slot. A batch also commits when the
 * stream goes quiet and at a cutover marker. The next batch is decoded and prepared while the
 * previous one commits (at most one in flight): the targets' round trips no longer stop the stream.
 * Acknowledgements, progress and messages (markers, refused DDL) follow the commits in order. A probe written to the WAL every few
 * hundred milliseconds measures the lag end to end: it counts once everything before it is committed.
 */
export class Follower {
  private failure: Error | null = null;
  private batch = emptyBatch();
  private inTransaction = false;
  private flushDue = false;
  private afterFlush: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private serial: Promise<void> = Promise.resolve();
  /** The batch committing on the targets, if any: its acknowledgement and messages come after it. */
  private inFlight: Promise<void> = Promise.resolve();
  private committing = false;
  private stopped = false;
  private probes = new Map<string, number>();
  private lastLagMs: number | null = null;
  private markers = new Map<string, () => void>();
  private running: Promise<void> | null = null;
  changesApplied = 0;
  appliedLsn: string | null = null;

  constructor(
    private readonly stream: ChangeStream,
    private readonly applier: ChangeApplier,
    private readonly probeSession: Client,
    private readonly names: OnlineNames,
    private readonly run: RunContext,
    private readonly onApplied: (lsn: string, changes: number, lagMs: number) => Promise<void>,
  ) {}

  start(): void {
    this.running = this.stream
      .run(this.names.slot, this.names.publication, (event) => this.inTurn(() => this.handle(event)))
      .catch((error: Error) => {
        this.failure ??= error;
      });
  }

  /** The error that stopped the follow, if any (DDL on the monolith, a target refusing a change). */
  get error(): Error | null {
    return this.failure;
  }

  /** How far behind the monolith the targets are, in ms; unknown (Infinity) until a probe came back. */
  lagMs(): number {
    const now = Date.now();
    const oldest = Math.min(...this.probes.values());
    if (Number.isFinite(oldest)) return Math.max(now - oldest, this.lastLagMs ?? Infinity);
    return this.lastLagMs ?? Infinity;
  }

  async probe(): Promise<void> {
    const id = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    this.probes.set(id, Date.now());
    await this.probeSession.query('SELECT pg_logical_emit_message(false, $1, $2)', [PROBE_PREFIX, id]);
  }

  /**
   * Resolves 'drained' once the follower has seen the marker (everything before it is applied), or
   * 'timeout' at the deadline; rejects only when the follow itself failed.
   */
  drainedTo(marker: string, deadlineMs: number): Promise<'drained' | 'timeout'> {
    return new Promise<'drained' | 'timeout'>((resolve, reject) => {
      const timer = setInterval(() => {
        if (this.failure) finish(this.failure);
        else if (Date.now() > deadlineMs) finish('timeout');
      }, 20);
      const finish = (outcome: Error | 'drained' | 'timeout') => {
        clearInterval(timer);
        this.markers.delete(marker);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      this.markers.set(marker, () => finish('drained'));
    });
  }

  async stop(): Promise<void> {
    // The batch committing finishes; the one still accumulating is rolled back: the slot was not
    // told, the next run applies it again.
    this.stopped = true;
    await this.stream.stop();
    await this.running;
    await this.serial;
    await this.inFlight;
    if (this.timer) clearTimeout(this.timer);
    await this.applier.close();
  }

  /** Stream events and the idle timer take turns: a batch never commits while an event is applied. */
  private inTurn(step: () => Promise<void>): Promise<void> {
    const next = this.serial.then(() => this.guarded(step));
    this.serial = next;
    return next;
  }

  private async handle(event: StreamEvent): Promise<void> {
    switch (event.kind) {
      case 'begin':
        this.inTransaction = true;
        this.applier.begin(event.commitLsn);
        return;
      case 'change':
        await this.applier.change(event.change);
        return;
      case 'commit': {
        this.inTransaction = false;
        const batch = this.batch;
        batch.changes += this.applier.endTransaction();
        batch.endLsn = event.endLsn;
        batch.commitTimeMs = event.commitTimeMs;
        if (++batch.transactions === 1) this.timer = setTimeout(() => void this.idle(), BATCH_MS);
        if (this.flushDue || batch.transactions >= BATCH_TRANSACTIONS) await this.flushBatch();
        return;
      }
      case 'message':
        // A probe counts, a marker resolves, a refused DDL fails only once what came before is committed.
        this.afterFlush.push(() => this.message(event.prefix, event.content));
        if (event.prefix !== PROBE_PREFIX) this.flushDue = true;
        if (!this.inTransaction && (this.flushDue || this.batch.transactions === 0)) await this.flushBatch();
        return;
    }
  }

  /** The batch is BATCH_MS old: it commits now, or at the end of the source transaction under way. */
  private idle(): Promise<void> {
    return this.inTurn(async () => {
      if (this.stopped) return;
      if (this.inTransaction) this.flushDue = true;
      else await this.flushBatch();
    });
  }

  /**
   * Seals the batch (its statements are built now, while the previous batch may still commit), waits
   * for the previous one, then starts this one's commit without waiting for it.
   */
  private async flushBatch(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flushDue = false;
    const batch = this.batch;
    this.batch = emptyBatch();
    const waiting = this.afterFlush;
    this.afterFlush = [];
    const sealed = batch.transactions > 0 && batch.endLsn ? await this.applier.sealBatch() : null;
    if (sealed && this.committing && CRASH_WITH_BATCH_IN_FLIGHT) process.kill(process.pid, 'SIGKILL');
    // At most one batch commits at a time; messages alone just queue behind it.
    if (sealed) await this.inFlight;
    const previous = this.inFlight;
    this.inFlight = previous.then(() =>
      this.guarded(async () => {
        if (sealed) {
          this.committing = true;
          await sealed.commit().finally(() => (this.committing = false));
          const endLsn = batch.endLsn as string;
          await this.stream.acknowledge(endLsn);
          this.changesApplied += batch.changes;
          this.appliedLsn = endLsn;
          await this.onApplied(endLsn, batch.changes, Date.now() - batch.commitTimeMs);
        }
        for (const done of waiting) done();
      }),
    );
  }

  private async guarded(step: () => Promise<void>): Promise<void> {
    if (this.failure) return;
    try {
      await step();
    } catch (error) {
      this.failure ??= new OnlineSplitException(
        OnlineSplitExceptionCode.FollowFailed,
        `applying a change failed: ${error instanceof Error ? error.message : String(error)}`,
        {},
        { cause: error },
      );
      this.run.log('follow failed', { error: this.failure.message }, 'failed');
    }
  }

  private message(prefix: string, content: string): void {
    if (prefix === DDL_MESSAGE_PREFIX) {
      this.failure ??= new OnlineSplitException(
        OnlineSplitExceptionCode.DdlDuringSplit,
        `a schema change was attempted on the monolith during the online split and refused: ${content.trim()}`,
        { statement: content.trim() },
      );
    } else if (prefix === PROBE_PREFIX) {
      const sent = this.probes.get(content);
      if (sent !== undefined) {
        this.lastLagMs = Date.now() - sent;
        // Every probe before this one has necessarily been seen.
        for (const [id, at] of this.probes) if (at <= sent) this.probes.delete(id);
      }
    } else if (prefix === CUTOVER_MESSAGE_PREFIX) this.markers.get(content)?.();
  }
}

/** Records the lag in the journal (what db:status shows) and prints it on the detail channel. */
export async function reportLag(
  online: OnlineJournal,
  follower: Follower,
  lag: number,
  run: RunContext,
): Promise<void> {
  const known = Number.isFinite(lag);
  await online.update({ lagMs: known ? Math.round(lag) : null });
  run.detail(
    `  following: lag ${known ? `${Math.round(lag)} ms` : 'unknown'}, ${follower.changesApplied} change(s) applied`,
  );
}
