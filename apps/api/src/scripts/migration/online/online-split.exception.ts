import { ExitCode } from '../../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../../common/exceptions/topsteel.exception';

export enum OnlineSplitExceptionCode {
  LogicalWalRequired = 'LOGICAL_WAL_REQUIRED',
  ReplicationUnavailable = 'REPLICATION_UNAVAILABLE',
  DdlDuringSplit = 'DDL_DURING_SPLIT',
  FollowFailed = 'FOLLOW_FAILED',
  CutoverFailed = 'CUTOVER_FAILED',
  CutoverAborted = 'CUTOVER_ABORTED',
  NoOnlineSplit = 'NO_ONLINE_SPLIT',
  ReverseSyncFailed = 'REVERSE_SYNC_FAILED',
}

const INFO: Record<OnlineSplitExceptionCode, ExceptionCodeInfo> = {
  [OnlineSplitExceptionCode.LogicalWalRequired]: {
    exitCode: ExitCode.Failure,
    hint: "Nothing was created. Set wal_level = logical on the monolith's server (ALTER SYSTEM SET wal_level = logical, or postgresql.conf), restart PostgreSQL (this setting needs a restart), then run npm run db:migrate -- --online again; or split offline without --online.",
  },
  [OnlineSplitExceptionCode.ReplicationUnavailable]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was created. Free a replication slot and a WAL sender (max_replication_slots, max_wal_senders), or grant the role REPLICATION, then run the online split again.',
  },
  [OnlineSplitExceptionCode.DdlDuringSplit]: {
    exitCode: ExitCode.Failure,
    hint: 'Schema changes cannot be followed: the statement was refused on the monolith and the follow stopped. Run npm run db:migrate -- --online again to resume following (the statement stays refused until the cutover), or npm run db:rollback to abandon the split.',
  },
  [OnlineSplitExceptionCode.FollowFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing past the last applied transaction was acknowledged: fix the cause and run npm run db:migrate -- --online again to resume from there, or npm run db:rollback to abandon the split (it drops the slot and the publication).',
  },
  [OnlineSplitExceptionCode.CutoverFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The new databases differ from the monolith for the tables named; writes on the monolith were let through again and nothing was switched. Do not point the application at the new databases. Check that nothing else writes to them during the split, then run npm run db:rollback to abandon this split and start again (a rerun of npm run db:migrate -- --online retries the cutover, comparing the tables changed before it whole, and refuses again while they differ).',
  },
  [OnlineSplitExceptionCode.CutoverAborted]: {
    exitCode: ExitCode.Failure,
    hint: 'The pause would have passed --max-pause-ms: writes resumed and the follow went on. Retry when the write load is lower, or allow a longer pause.',
  },
  [OnlineSplitExceptionCode.NoOnlineSplit]: {
    exitCode: ExitCode.Failure,
    hint: 'Start one with npm run db:migrate -- --online --cutover manual, then run npm run db:cutover from another shell.',
  },
  [OnlineSplitExceptionCode.ReverseSyncFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The split itself is complete and verified. Look at pg_stat_subscription in the monolith and the server log, fix the cause, then run npm run db:status; npm run db:rollback still works, and says what would not go back.',
  },
};

/** Errors of the online split (slot, follow, cutover). */
export class OnlineSplitException extends TopsteelException<OnlineSplitExceptionCode> {
  readonly domain = 'online-split';

  constructor(
    code: OnlineSplitExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
