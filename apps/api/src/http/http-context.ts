import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticatedUser } from '../modules/access/authentication.service';
import type { TenantGrant } from '../modules/access/tenant-access.service';

/** What the app learns about a request as it goes through middleware, guards and handlers. */
export type RequestContext = {
  requestId: string;
  startedAt: number;
  user?: AuthenticatedUser;
  /** The société named by the token at login, used when no x-societe-id header is sent. */
  tokenSocieteId?: string | null;
  grant?: TenantGrant;
  /** The société a request asked for (header or token), logged also when it was refused. */
  requestedSociete?: string;
  /** The error code of a failed request, for the request log line. */
  errorCode?: string;
};

/** The parts of Express's request the app reads (no @types/express dependency). */
export type HttpRequest = IncomingMessage & {
  originalUrl?: string;
  query?: Record<string, unknown>;
  body?: unknown;
  topsteel?: RequestContext;
};

export type HttpResponse = ServerResponse;

export function contextOf(request: HttpRequest): RequestContext {
  request.topsteel ??= { requestId: 'unknown', startedAt: Date.now() };
  return request.topsteel;
}

export function requestOf(context: ExecutionContext): HttpRequest {
  return context.switchToHttp().getRequest<HttpRequest>();
}

/** The single value of a header (the first one when it was sent several times). */
export function headerValue(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The authenticated user; AuthGuard runs on every route that is not @Public. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const user = contextOf(requestOf(context)).user;
  if (!user) throw new Error('CurrentUser used on a route without AuthGuard');
  return user;
});

/** The tenant grant; only on routes guarded by TenantGuard. */
export const CurrentGrant = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const grant = contextOf(requestOf(context)).grant;
  if (!grant) throw new Error('CurrentGrant used on a route without TenantGuard');
  return grant;
});
