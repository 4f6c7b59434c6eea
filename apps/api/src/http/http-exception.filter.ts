import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { isTopsteelException, TopsteelException } from '../common/exceptions/topsteel.exception';
import { AccessExceptionCode } from '../modules/access/access.exception';
import { DatabaseExceptionCode } from '../modules/database/database.exception';
import { SocieteExceptionCode } from '../modules/societes/societe.exception';
import { contextOf, HttpRequest, HttpResponse } from './http-context';
import { ApplicationLogService } from './logging/application-log.service';

/** HTTP status of each domain error a request can meet; anything else is a 500. */
const STATUS: Record<string, number> = {
  [AccessExceptionCode.InvalidCredentials]: 401,
  [AccessExceptionCode.TokenMissing]: 401,
  [AccessExceptionCode.TokenInvalid]: 401,
  [AccessExceptionCode.TokenExpired]: 401,
  [AccessExceptionCode.SocieteRequired]: 400,
  [AccessExceptionCode.NotAMember]: 403,
  [AccessExceptionCode.SocieteInactive]: 403,
  [AccessExceptionCode.AdminRequired]: 403,
  [AccessExceptionCode.MonolithMode]: 409,
  [AccessExceptionCode.SocieteMoving]: 503,
  [SocieteExceptionCode.InvalidCode]: 400,
  [SocieteExceptionCode.InvalidInput]: 400,
  [SocieteExceptionCode.Conflict]: 409,
  [SocieteExceptionCode.NotFound]: 404,
  [SocieteExceptionCode.UserNotFound]: 404,
  [SocieteExceptionCode.AuthNotReady]: 503,
  [SocieteExceptionCode.DatabaseMissing]: 503,
  [DatabaseExceptionCode.LockHeld]: 409,
  [DatabaseExceptionCode.NotOwnedByTool]: 409,
  [DatabaseExceptionCode.Unreachable]: 503,
  [DatabaseExceptionCode.TooManyConnections]: 503,
  [DatabaseExceptionCode.DatabaseMissing]: 503,
};

/**
 * Domain messages that can name databases, servers, lock holders or other sociétés: callers get a
 * fixed sentence instead (the full message goes nowhere but the request's error code).
 */
const PUBLIC_MESSAGE: Record<string, string> = {
  [SocieteExceptionCode.Conflict]: 'a société with this code already exists',
  [SocieteExceptionCode.InvalidCode]:
    'the société code must be letters, digits and underscores, start with a letter or an underscore, and be at most a few dozen characters',
  [SocieteExceptionCode.NotFound]: 'no such société',
  [SocieteExceptionCode.UserNotFound]: 'no such user',
  [DatabaseExceptionCode.LockHeld]: 'another operation is in progress; retry later',
  [DatabaseExceptionCode.NotOwnedByTool]: 'a database with this name already exists',
};

/** The one error shape of the API (issue 14): nothing else, so no stack, SQL or internal name. */
export type ErrorBody = { statusCode: number; error: string; message: string; requestId: string };

/** An HTTP exception that tells the client when to retry (sent as Retry-After). */
export type RetryAfter = { retryAfterSeconds: number };

const retryAfterOf = (exception: unknown): number | undefined => {
  const value = (exception as Partial<RetryAfter> | null)?.retryAfterSeconds;
  return typeof value === 'number' && value > 0 ? Math.ceil(value) : undefined;
};

/**
 * One JSON error shape for every failure: { statusCode, error, message, requestId }, `error` being
 * a stable code. Client errors (4xx) say what was wrong in words meant for callers; server errors
 * say only their code and request id, and the details go to application.log.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly log: ApplicationLogService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<HttpRequest>();
    const response = host.switchToHttp().getResponse<HttpResponse>();
    const context = contextOf(request);
    const body = this.bodyFor(exception, context.requestId);
    context.errorCode = body.error;
    if (body.statusCode >= 500) {
      this.log.event(
        'error',
        {
          requestId: context.requestId,
          code: body.error,
          message: exception instanceof Error ? exception.message : String(exception),
        },
        'error',
      );
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    response.statusCode = body.statusCode;
    const retryAfter = retryAfterOf(exception);
    if (retryAfter !== undefined) response.setHeader('retry-after', String(retryAfter));
    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.end(JSON.stringify(body));
  }

  private bodyFor(exception: unknown, requestId: string): ErrorBody {
    if (isTopsteelException(exception)) return this.domainBody(exception, requestId);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const answer = exception.getResponse();
      const message =
        typeof answer === 'object' && answer !== null && 'message' in answer
          ? String(answer.message)
          : exception.message;
      if (status >= 500)
        return { statusCode: status, error: 'INTERNAL_ERROR', message: 'internal error', requestId };
      return { statusCode: status, error: HttpStatus[status] ?? 'HTTP_ERROR', message, requestId };
    }
    // body-parser errors (malformed JSON, body too large) carry their own 4xx status.
    const status = (exception as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        statusCode: status,
        error: HttpStatus[status] ?? 'BAD_REQUEST',
        message: 'invalid request body',
        requestId,
      };
    }
    return { statusCode: 500, error: 'INTERNAL_ERROR', message: 'internal error', requestId };
  }

  private domainBody(exception: TopsteelException, requestId: string): ErrorBody {
    const statusCode = STATUS[exception.code] ?? 500;
    if (statusCode >= 500) {
      return {
        statusCode,
        error: exception.code,
        message: statusCode === 503 ? 'a database is unavailable' : 'internal error',
        requestId,
      };
    }
    const message = PUBLIC_MESSAGE[exception.code] ?? exception.message;
    return { statusCode, error: exception.code, message, requestId };
  }
}
