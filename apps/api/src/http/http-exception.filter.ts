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

type ErrorBody = { statusCode: number; code: string; message: string; hint?: string; requestId: string };

/**
 * One JSON error shape for every failure: { statusCode, code, message, hint, requestId }. Client
 * errors (4xx) say what was wrong; server errors say only their code and request id, and the
 * details go to application.log, so internals never reach a caller.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly log: ApplicationLogService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<HttpRequest>();
    const response = host.switchToHttp().getResponse<HttpResponse>();
    const context = contextOf(request);
    const body = this.bodyFor(exception, context.requestId);
    context.errorCode = body.code;
    if (body.statusCode >= 500) {
      this.log.event(
        'error',
        {
          requestId: context.requestId,
          code: body.code,
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
      return { statusCode: status, code: HttpStatus[status] ?? 'HTTP_ERROR', message, requestId };
    }
    // body-parser errors (malformed JSON, body too large) carry their own 4xx status.
    const status = (exception as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return {
        statusCode: status,
        code: HttpStatus[status] ?? 'BAD_REQUEST',
        message: 'invalid request body',
        requestId,
      };
    }
    return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'internal error', requestId };
  }

  private domainBody(exception: TopsteelException, requestId: string): ErrorBody {
    const statusCode = STATUS[exception.code] ?? 500;
    if (statusCode >= 500) {
      return {
        statusCode,
        code: exception.code,
        message: statusCode === 503 ? 'a database is unavailable' : 'internal error',
        requestId,
      };
    }
    return { statusCode, code: exception.code, message: exception.message, hint: exception.hint, requestId };
  }
}
