import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { AuthenticationService } from '../../modules/access/authentication.service';
import { contextOf, headerValue, requestOf } from '../http-context';
import { TokenService } from './token.service';

const IS_PUBLIC = 'topsteel:public';

/** Marks a route that needs no token (login, health). Everything else is closed by default. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Global guard: a valid Bearer token whose user still exists, is active and has the password it had
 * when the token was issued (401 otherwise). The user is re-read on each request so that
 * deactivating an account or changing its password takes effect at once.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly authentication: AuthenticationService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]))
      return true;
    const request = requestOf(context);
    const match = /^Bearer\s+(\S+)$/i.exec(headerValue(request, 'authorization') ?? '');
    if (!match) {
      throw new AccessException(
        AccessExceptionCode.TokenMissing,
        'an Authorization: Bearer token is required',
      );
    }
    const claims = this.tokens.verify(match[1]);
    const requestContext = contextOf(request);
    const user = await this.authentication.principal(claims.sub);
    this.tokens.assertCurrentCredentials(claims, this.authentication.credentialStamp(user));
    requestContext.user = user;
    requestContext.tokenSocieteId = claims.sid;
    return true;
  }
}
