import { Client } from 'pg';
import { RunContext } from '../../../common/run/run-context';
import { ChangeApplier } from './change-applier';
import { ChangeStream, StreamEvent } from './change-stream';
import { CUTOVER_MESSAGE_PREFIX, DDL_MESSAGE_PREFIX, OnlineNames } from './monolith-objects';
import { OnlineSplitException, OnlineSplitExceptionCode } from './online-split.exception';
import { OnlineJournal } from './online-journal';

const PROBE_PREFIX = 'topsteel-probe';

/**
 * Follows the slot: every decoded transaction goes to the applier, and only once the targets
 * committed it is its end position acknowledged to the slot. A probe written to the WAL every few
 * hundred milliseconds measures the lag end to end (it arrives after everything committed before it).
 */
export class Follower {
  private failure: Error | null = null;
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
      .run(this.names.slot, this.names.publication, (event) => this.handle(event))
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
    await this.stream.stop();
    await this.running;
    await this.applier.close();
  }

  private async handle(event: StreamEvent): Promise<void> {
    if (this.failure) return;
    try {
      switch (event.kind) {
        case 'begin':
          this.applier.begin(event.commitLsn);
          return;
        case 'change':
          await this.applier.change(event.change);
          return;
        case 'commit': {
          const changes = await this.applier.commit();
          await this.stream.acknowledge(event.endLsn);
          this.changesApplied += changes;
          this.appliedLsn = event.endLsn;
          await this.onApplied(event.endLsn, changes, Date.now() - event.commitTimeMs);
          return;
        }
        case 'message':
          return this.message(event.prefix, event.content);
      }
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
