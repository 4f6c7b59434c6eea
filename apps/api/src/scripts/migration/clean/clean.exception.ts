import { ExitCode } from '../../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../../common/exceptions/topsteel.exception';

export enum CleanExceptionCode {
  UnknownRule = 'UNKNOWN_RULE',
  InvalidOption = 'INVALID_OPTION',
  InvalidRulesFile = 'INVALID_RULES_FILE',
  ArchiveNotFound = 'ARCHIVE_NOT_FOUND',
  TargetNotReady = 'TARGET_NOT_READY',
  MonolithFrozen = 'MONOLITH_FROZEN',
  RuleFailed = 'RULE_FAILED',
  RuleWrites = 'RULE_WRITES',
  CascadeCycle = 'CASCADE_CYCLE',
  UnsupportedReference = 'UNSUPPORTED_REFERENCE',
  Blocked = 'BLOCKED',
  BackupRequired = 'BACKUP_REQUIRED',
  BackupStale = 'BACKUP_STALE',
  TablesBusy = 'TABLES_BUSY',
  SchemaChanged = 'SCHEMA_CHANGED',
  CountersOff = 'COUNTERS_OFF',
  ArchiveFailed = 'ARCHIVE_FAILED',
  FolderNotWritable = 'FOLDER_NOT_WRITABLE',
  DeleteFailed = 'DELETE_FAILED',
  VerificationFailed = 'VERIFICATION_FAILED',
  OutcomeUnknown = 'OUTCOME_UNKNOWN',
  ArchiveCorrupted = 'ARCHIVE_CORRUPTED',
  ArchiveForOtherDatabase = 'ARCHIVE_FOR_OTHER_DATABASE',
  RestoreConflict = 'RESTORE_CONFLICT',
  RestoreMismatch = 'RESTORE_MISMATCH',
  CleanNotCommitted = 'CLEAN_NOT_COMMITTED',
  AlreadyRestored = 'ALREADY_RESTORED',
  RestoreUnverifiable = 'RESTORE_UNVERIFIABLE',
  RestoreOutcomeUnknown = 'RESTORE_OUTCOME_UNKNOWN',
}

const NOTHING_CHANGED = 'Nothing was deleted: the transaction was rolled back and the archive removed.';

const INFO: Record<CleanExceptionCode, ExceptionCodeInfo> = {
  [CleanExceptionCode.UnknownRule]: {
    exitCode: ExitCode.Usage,
    hint: 'Use one of the rule names listed (npm run db:clean shows every rule with what it selects).',
  },
  [CleanExceptionCode.InvalidOption]: {
    exitCode: ExitCode.Usage,
    hint: 'Run npm run db:clean -- --help to see the options and how they combine.',
  },
  [CleanExceptionCode.InvalidRulesFile]: {
    exitCode: ExitCode.Usage,
    hint: 'Fix the rules file: {"rules": [{"name", "description", "table", "predicate", "parameters"}]}, names in kebab-case, $1..$n for values.',
  },
  [CleanExceptionCode.ArchiveNotFound]: {
    exitCode: ExitCode.Usage,
    hint: 'Pass the name of a folder under BACKUP_DIR/clean (the timestamp db:clean:execute printed).',
  },
  [CleanExceptionCode.TargetNotReady]: {
    exitCode: ExitCode.Failure,
    hint: '--target auth maintains AUTH after a complete split: run npm run db:migrate first (db:status shows where things stand).',
  },
  [CleanExceptionCode.MonolithFrozen]: {
    exitCode: ExitCode.Failure,
    hint:
      'Once a split is recorded the monolith stays as the split read it (db:verify and db:rollback compare against it): clean AUTH with ' +
      '--target auth, or db:rollback first to clean the monolith again.',
  },
  [CleanExceptionCode.RuleFailed]: {
    exitCode: ExitCode.Failure,
    hint: `Fix the rule's predicate (or leave the rule out with --rule). ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.RuleWrites]: {
    exitCode: ExitCode.Usage,
    hint: `A rule selects rows and never writes: remove the writing function from its predicate. ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.CascadeCycle]: {
    exitCode: ExitCode.Failure,
    hint: 'The cascade runs through a cycle of several tables, which clean does not plan; remove those rows by hand after a db:backup.',
  },
  [CleanExceptionCode.UnsupportedReference]: {
    exitCode: ExitCode.Failure,
    hint: 'clean only changes what it can put back: leave this rule out with --rule, or add a primary key to the table named above.',
  },
  [CleanExceptionCode.Blocked]: {
    exitCode: ExitCode.Failure,
    hint:
      'Rows elsewhere reference rows the rules select through a foreign key without ON DELETE CASCADE/SET NULL: deal with them first, or ' +
      'leave the rule out.',
  },
  [CleanExceptionCode.BackupRequired]: {
    exitCode: ExitCode.Failure,
    hint: 'Take one with npm run db:backup (or run without --no-auto-backup so that clean takes one itself), then run again.',
  },
  [CleanExceptionCode.BackupStale]: {
    exitCode: ExitCode.Failure,
    hint: `Something wrote to the monolith after the backup was checked: stop the writers and run again (it takes a new backup). ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.TablesBusy]: {
    exitCode: ExitCode.Failure,
    hint: 'Another session kept the tables locked for longer than --lock-timeout: stop the application (or its long transactions) and run again.',
  },
  [CleanExceptionCode.SchemaChanged]: {
    exitCode: ExitCode.Failure,
    hint: `The foreign keys changed while clean was planning: run it again. ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.CountersOff]: {
    exitCode: ExitCode.Failure,
    hint: 'clean verifies deletions with PostgreSQL per-transaction counters: set track_counts = on for the server, then run again.',
  },
  [CleanExceptionCode.ArchiveFailed]: {
    exitCode: ExitCode.Failure,
    hint: `Free space under BACKUP_DIR, or fix the cause shown above, then run again. ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.FolderNotWritable]: {
    exitCode: ExitCode.Usage,
    hint: 'Point BACKUP_DIR at a folder this user can create and write, then run again.',
  },
  [CleanExceptionCode.DeleteFailed]: {
    exitCode: ExitCode.Failure,
    hint: `PostgreSQL refused the delete (message above: a trigger, a constraint, a lost connection). ${NOTHING_CHANGED}`,
  },
  [CleanExceptionCode.VerificationFailed]: {
    exitCode: ExitCode.Failure,
    hint: `PostgreSQL removed or changed other rows than the ones archived. ${NOTHING_CHANGED} Report this with logs/migration.log.`,
  },
  [CleanExceptionCode.OutcomeUnknown]: {
    exitCode: ExitCode.Failure,
    hint:
      'The connection failed during COMMIT: the deletion may or may not have happened. The archive is kept; run npm run db:clean to see ' +
      'what is still there.',
  },
  [CleanExceptionCode.ArchiveCorrupted]: {
    exitCode: ExitCode.Failure,
    hint:
      'This archive cannot be trusted (a file is missing or differs from its manifest); nothing was restored. Restore from the db:backup ' +
      'taken before the clean instead.',
  },
  [CleanExceptionCode.ArchiveForOtherDatabase]: {
    exitCode: ExitCode.Usage,
    hint: 'The archive was taken from another database: point DB_NAME/DB_AUTH_NAME (and --target) at the database it came from.',
  },
  [CleanExceptionCode.RestoreConflict]: {
    exitCode: ExitCode.Failure,
    hint:
      'Nothing was restored: rows with the same keys exist again, or rows the clean changed were changed since. Resolve them by hand ' +
      '(the archive files are CSV) and run again.',
  },
  [CleanExceptionCode.RestoreMismatch]: {
    exitCode: ExitCode.Failure,
    hint: 'The rows read back differ from the archive (a trigger or a default changed them?); the restore was rolled back and nothing changed.',
  },
  [CleanExceptionCode.CleanNotCommitted]: {
    exitCode: ExitCode.Failure,
    hint:
      'Nothing was restored: the clean that wrote this archive did not commit (it was killed or failed before COMMIT), so its rows are ' +
      'still in the database. The archive describes no deletion; keep it or remove it.',
  },
  [CleanExceptionCode.AlreadyRestored]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was restored again: the rows of this archive are back since that restore. Run npm run db:clean to see what the rules would remove now.',
  },
  [CleanExceptionCode.RestoreUnverifiable]: {
    exitCode: ExitCode.Failure,
    hint:
      'Nothing was restored: PostgreSQL can no longer say whether the clean committed and whether an earlier restore did, and rows of ' +
      'tables without a primary key cannot be told from copies. Check by hand that the archived rows are absent (the archive files are CSV), ' +
      'then run again with --accept-duplicate-risk.',
  },
  [CleanExceptionCode.RestoreOutcomeUnknown]: {
    exitCode: ExitCode.Failure,
    hint:
      'The connection failed during COMMIT: the restore may or may not have happened. Run the same --restore again: it refuses with ' +
      'ALREADY_RESTORED if the rows are back, and restores them otherwise.',
  },
};

/** Errors of db:clean: selecting rules, planning cascades, archiving, deleting and restoring. */
export class CleanException extends TopsteelException<CleanExceptionCode> {
  readonly domain = 'clean';

  constructor(
    code: CleanExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
