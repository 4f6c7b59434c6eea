import { ExitCode } from '../../common/exceptions/exit-code';
import {
  ExceptionCodeInfo,
  ExceptionDetails,
  TopsteelException,
} from '../../common/exceptions/topsteel.exception';

export enum AccessExceptionCode {
  InvalidCredentials = 'INVALID_CREDENTIALS',
  TokenMissing = 'TOKEN_MISSING',
  TokenInvalid = 'TOKEN_INVALID',
  TokenExpired = 'TOKEN_EXPIRED',
  SocieteRequired = 'SOCIETE_REQUIRED',
  NotAMember = 'NOT_A_MEMBER',
  SocieteInactive = 'SOCIETE_INACTIVE',
  AdminRequired = 'ADMIN_REQUIRED',
  MonolithMode = 'NOT_AVAILABLE_IN_MONOLITH_MODE',
  GrantNotIssued = 'GRANT_NOT_ISSUED',
  SocieteMoving = 'SOCIETE_MOVING',
}

const INFO: Record<AccessExceptionCode, ExceptionCodeInfo> = {
  [AccessExceptionCode.InvalidCredentials]: {
    exitCode: ExitCode.Failure,
    hint: 'Check the e-mail address and the password; deleted and inactive users cannot log in.',
  },
  [AccessExceptionCode.TokenMissing]: {
    exitCode: ExitCode.Failure,
    hint: 'Log in with POST /auth/login and send the token as "Authorization: Bearer <token>".',
  },
  [AccessExceptionCode.TokenInvalid]: {
    exitCode: ExitCode.Failure,
    hint: 'The token is malformed, was signed with another JWT_SECRET, or its user is no longer active: log in again.',
  },
  [AccessExceptionCode.TokenExpired]: {
    exitCode: ExitCode.Failure,
    hint: 'The token has expired: log in again.',
  },
  [AccessExceptionCode.SocieteRequired]: {
    exitCode: ExitCode.Usage,
    hint: 'Send the société id or code in the x-societe-id header, or log in with a société.',
  },
  [AccessExceptionCode.NotAMember]: {
    exitCode: ExitCode.Failure,
    hint: 'The user is not a member of this société; GET /societes lists the ones it may use.',
  },
  [AccessExceptionCode.SocieteInactive]: {
    exitCode: ExitCode.Failure,
    hint: 'This société is suspended or archived; an administrator can reactivate it.',
  },
  [AccessExceptionCode.AdminRequired]: {
    exitCode: ExitCode.Failure,
    hint: 'Only users with the ADMIN role may do this.',
  },
  [AccessExceptionCode.MonolithMode]: {
    exitCode: ExitCode.Failure,
    hint: 'The app runs with DB_MODE=monolith (after a rollback); sociétés can only be created on the split databases.',
  },
  [AccessExceptionCode.GrantNotIssued]: {
    exitCode: ExitCode.Failure,
    hint: 'This is a bug: tenant data was requested without a grant from TenantAccessService.authorize.',
  },
  [AccessExceptionCode.SocieteMoving]: {
    exitCode: ExitCode.Failure,
    hint: 'The société is being moved to another server (db:societe:move); retry after the delay the answer gives.',
  },
};

/** How long a client should wait before retrying a société that is being moved (Retry-After). */
export const MOVING_RETRY_AFTER_SECONDS = 5;

/** Authentication and authorisation failures, for the HTTP app and for db:verify alike. */
export class AccessException extends TopsteelException<AccessExceptionCode> {
  readonly domain = 'access';

  /** Sent as Retry-After by the HTTP filter (set for SOCIETE_MOVING). */
  readonly retryAfterSeconds?: number;

  constructor(
    code: AccessExceptionCode,
    message: string,
    details: ExceptionDetails = {},
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(code, message, INFO[code], details);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
