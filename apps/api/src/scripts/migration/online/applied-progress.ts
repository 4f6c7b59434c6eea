import { OnlineJournal } from './online-journal';

/** Writes the follow's progress to the journal at most once a second (it is for db:status, not for resuming). */
export class AppliedProgress {
  private pending = 0;
  private lsn: string | null = null;
  private writtenAt = Date.now();

  constructor(
    private readonly online: OnlineJournal,
    private readonly tables: Set<string>,
  ) {}

  async applied(lsn: string, changes: number, lagMs: number): Promise<void> {
    this.pending += changes;
    this.lsn = lsn;
    if (Date.now() - this.writtenAt < 1000) return;
    await this.write(lagMs);
  }

  async flush(lsn: string | null): Promise<void> {
    this.lsn = lsn ?? this.lsn;
    await this.write(0);
  }

  private async write(lagMs: number): Promise<void> {
    if (this.lsn) await this.online.recordApplied(this.lsn, this.pending, [...this.tables], lagMs);
    this.pending = 0;
    this.writtenAt = Date.now();
  }
}
