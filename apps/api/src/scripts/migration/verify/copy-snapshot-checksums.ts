import { Client } from 'pg';
import { CopyTask } from '../plan/plan-resolver';
import { ExportedSnapshot, releaseClients } from '../snapshot/exported-snapshot';
import { provenUnchanged, snapshotHorizon } from '../snapshot/snapshot-horizon';
import { isTypedChecksum, supportsTypedChecksums } from '../catalogue/typed-checksum';
import { FingerprintHash } from '../snapshot/table-fingerprints';
import { checksumSources, Fingerprint } from './verify-checksums';

/**
 * The verification's source side, read in the copy's snapshot while the copy runs, by sessions of
 * its own (the verification's SQL over the copy's projection, not the copy's streams). On two busy
 * cores this work was the verification's longest part; here it overlaps the copy. It proves
 * nothing by itself: after the copy, the verification reads the monolith in a fresh snapshot and
 * keeps a table's checksum only where that snapshot provably holds the same rows (`settle`);
 * every other table is checksummed again, in the fresh snapshot.
 */
export class CopySnapshotChecksums {
  private constructor(
    private readonly horizon: string,
    private readonly sessions: Client[],
    private readonly checksums: Promise<Map<string, Fingerprint> | null>,
    private readonly ending: { abandoned: boolean },
  ) {}

  /** `sessions` readers join the snapshot now; the checksums run in the background. */
  static async start(
    snapshot: ExportedSnapshot,
    tasks: CopyTask[],
    options: { societeId: string; sessions: number; onFailure?: (error: unknown) => void },
  ): Promise<CopySnapshotChecksums> {
    const horizon = await snapshotHorizon(snapshot.client);
    const sessions: Client[] = [];
    // Set by abandon(): the readers' queries then fail because they were ended, which is no failure.
    const ending = { abandoned: false };
    try {
      for (let index = 0; index < Math.max(1, options.sessions); index++)
        sessions.push(await snapshot.join('topsteel-verify-source'));
    } catch (error) {
      await releaseClients(sessions);
      throw error;
    }
    const checksums = checksumSources(sessions, tasks, {
      societeId: options.societeId,
      label: `verify ${snapshot.location.database}`,
      hash: (await supportsTypedChecksums(snapshot.client)) ? 'typed' : 'text',
    })
      .catch((error: unknown) => {
        // Nothing is lost: the verification then checksums every table in its fresh snapshot.
        if (!ending.abandoned) options.onFailure?.(error);
        return null;
      })
      .finally(() => releaseClients(sessions));
    return new CopySnapshotChecksums(horizon, sessions, checksums, ending);
  }

  /**
   * The source checksums of the tables that the `fresh` sessions' snapshot provably sees exactly as
   * the copy's snapshot did (snapshot/snapshot-horizon.ts: nothing written since the copy
   * snapshot's horizon, same count). Waits for the background checksums.
   */
  async settle(fresh: Client[], tasks: CopyTask[], hash: FingerprintHash): Promise<Map<string, Fingerprint>> {
    const early = await this.checksums;
    const settled = new Map<string, Fingerprint>();
    // Of another kind than the targets' (a target server older than 14): all hashed again.
    if (!early || [...early.values()].some((one) => isTypedChecksum(one.checksum) !== (hash === 'typed')))
      return settled;
    const counted = tasks
      .filter((task) => early.has(task.source))
      .map((task) => ({ schema: 'public', name: task.source, rows: early.get(task.source)?.rows ?? -1 }));
    const proven = await provenUnchanged(fresh, counted, this.horizon);
    for (const task of tasks) {
      const fingerprint = early.get(task.source);
      if (fingerprint && proven.has(`public.${task.source}`)) settled.set(task.source, fingerprint);
    }
    return settled;
  }

  /** The copy failed: the readers are let go (a query under way ends on the server by itself). */
  async abandon(): Promise<void> {
    this.ending.abandoned = true;
    await Promise.all(this.sessions.map((session) => session.end().catch(() => undefined)));
    await this.checksums;
  }
}
