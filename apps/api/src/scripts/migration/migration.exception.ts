import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../common/exceptions/topsteel.exception';

export enum MigrationExceptionCode {
  PreflightFailed = 'PREFLIGHT_FAILED',
  NoSource = 'NO_SOURCE',
  CopyFailed = 'COPY_FAILED',
  ForeignKeyViolated = 'FOREIGN_KEY_VIOLATED',
  VerificationFailed = 'VERIFICATION_FAILED',
  TenantMigrationsFailed = 'TENANT_MIGRATIONS_FAILED',
  TargetChanged = 'TARGET_CHANGED',
}

const INFO: Record<MigrationExceptionCode, ExceptionCodeInfo> = {
  [MigrationExceptionCode.PreflightFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'Nothing was written. Run npm run db:migration:dry-run to see each failed check and why, fix them, then migrate again.',
  },
  [MigrationExceptionCode.NoSource]: {
    exitCode: ExitCode.Failure,
    hint: 'Check DB_NAME (the monolith) and DB_AUTH_NAME: there is neither a monolith to split nor a completed split to maintain.',
  },
  [MigrationExceptionCode.CopyFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The failed table was rolled back; tables already copied are kept. Fix the cause and run npm run db:migrate again to resume.',
  },
  [MigrationExceptionCode.ForeignKeyViolated]: {
    exitCode: ExitCode.Failure,
    hint: 'The tables were copied as the monolith holds them, but the monolith has rows its own foreign key should have refused (it was bypassed, e.g. with session_replication_role = replica or disabled triggers). Fix or remove those rows in the monolith, then run npm run db:migrate again: it recopies the tables that changed and validates the key.',
  },
  [MigrationExceptionCode.VerificationFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The split is not complete and the journal says so. If the monolith changed during the copy, run npm run db:migrate again: it recopies the tables that differ.',
  },
  [MigrationExceptionCode.TenantMigrationsFailed]: {
    exitCode: ExitCode.Failure,
    hint: 'The failed databases were rolled back (one transaction each); the others are migrated. Fix the cause and rerun npm run db:migrate.',
  },
  [MigrationExceptionCode.TargetChanged]: {
    exitCode: ExitCode.Failure,
    hint:
      'Someone wrote into these tables after the tool loaded them (the application pointed at the new databases too early, a manual fix); ' +
      'nothing was truncated. Look at what changed; to recopy them from the monolith anyway, run npm run db:migrate -- --discard-target-changes, ' +
      'which first dumps them into BACKUP_DIR/target-changes/.',
  },
};

export class MigrationException extends TopsteelException<MigrationExceptionCode> {
  readonly domain = 'migration';

  constructor(
    code: MigrationExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, INFO[code], details, options);
  }
}
