import { formatDuration } from '../../common/format/format';
import { OnlineOptions } from '../../scripts/migration/online/online-dependencies';
import { OnlineSplitReport } from '../../scripts/migration/online/online-split.service';
import { CHECK } from '../runner/command-output.service';
import { UsageException, UsageExceptionCode } from '../runner/usage.exception';

/** The migrate flags of the online split (kept here so migrate.command.ts only branches). */
export type OnlineFlags = {
  online?: boolean;
  cutover?: string;
  maxLagMs?: number;
  maxPauseMs?: number;
  reverseSync?: boolean;
};

export type OnlineMigrateReport = { mode: 'online' } & OnlineSplitReport;

export function onlineOptionsFrom(
  flags: OnlineFlags & { excludeTable?: string[]; jobs?: number; lockTimeout?: number },
  defaultJobs: number,
): OnlineOptions {
  const cutover = flags.cutover ?? 'auto';
  if (cutover !== 'auto' && cutover !== 'manual')
    throw new UsageException(UsageExceptionCode.InvalidOption, '--cutover must be auto or manual');
  return {
    excludeTables: flags.excludeTable,
    jobs: flags.jobs ?? defaultJobs,
    lockTimeoutMs: flags.lockTimeout ?? 60000,
    cutover,
    maxLagMs: flags.maxLagMs ?? 1000,
    maxPauseMs: flags.maxPauseMs ?? 5000,
    reverseSync: flags.reverseSync !== false,
  };
}

export function renderOnline(report: OnlineMigrateReport): string {
  return [
    `${CHECK} Online split complete${report.resumed ? ' (resumed)' : ''}: ${report.verification.tables} tables verified.`,
    report.copy
      ? `Copy in the slot's snapshot: ${report.copy.tables} tables, ${report.copy.rows} rows in ${formatDuration(report.copy.copyMs)}; backup ${report.copy.backup.path}.`
      : 'Copy: done by an earlier run.',
    `Cutover: writes paused ${report.cutover.pauseMs} ms (attempt ${report.cutover.attempts}), ${report.cutover.changesApplied} change(s) applied while following, ${report.cutover.verifiedTables.length} changed table(s) verified in the pause.`,
    report.reverseSync
      ? `Reverse sync: ${report.reverseSync.databases.join(', ')} flow back into the monolith (npm run db:status shows the lag; npm run db:rollback loses nothing).`
      : 'No reverse sync (--no-reverse-sync): a rollback would leave the writes made from now on in its pre-drop dump only.',
    `The monolith is now read-only for applications. Next: restart the application with DB_MODE=multi-tenant.`,
  ].join('\n');
}
