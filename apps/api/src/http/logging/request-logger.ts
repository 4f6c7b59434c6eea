import { randomUUID } from 'node:crypto';
import { contextOf, headerValue, HttpRequest, HttpResponse } from '../http-context';
import { ApplicationLogService } from './application-log.service';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Express middleware, first in the chain: gives every request an id (a caller's safe x-request-id,
 * else a new one, echoed in the response) and logs one line when the response is done, with the
 * user and société the guards resolved. The path is logged without its query string.
 */
export function requestLogger(log: ApplicationLogService) {
  return (request: HttpRequest, response: HttpResponse, next: () => void): void => {
    const given = headerValue(request, 'x-request-id');
    const context = contextOf(request);
    context.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    context.startedAt = performance.now();
    response.setHeader('x-request-id', context.requestId);
    response.once('close', () => {
      log.request({
        requestId: context.requestId,
        method: request.method ?? '',
        path: (request.originalUrl ?? request.url ?? '').split('?')[0].slice(0, 256),
        status: response.statusCode,
        durationMs: Math.round((performance.now() - context.startedAt) * 10) / 10,
        userId: context.user?.userId,
        societe: context.grant?.societe.code ?? context.requestedSociete,
        error: context.errorCode,
        ...(response.writableFinished ? {} : { aborted: true }),
      });
    });
    next();
  };
}
