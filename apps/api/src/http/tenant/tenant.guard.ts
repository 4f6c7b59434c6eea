import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { TenantAccessService } from '../../modules/access/tenant-access.service';
import { contextOf, headerValue, requestOf } from '../http-context';

export const SOCIETE_HEADER = 'x-societe-id';

/**
 * Resolves the société of a request (the x-societe-id header, else the one chosen at login) and
 * obtains a grant for it: 403 when the user is not a member. Handlers get tenant data only through
 * that grant.
 */
@Injectable()
export class TenantGuard implements CanActivate {
  constructor(private readonly tenantAccess: TenantAccessService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requestContext = contextOf(requestOf(context));
    const user = requestContext.user;
    if (!user) throw new AccessException(AccessExceptionCode.TokenMissing, 'authentication is required');
    const societe = headerValue(requestOf(context), SOCIETE_HEADER)?.trim() || requestContext.tokenSocieteId;
    if (!societe) {
      throw new AccessException(
        AccessExceptionCode.SocieteRequired,
        `no société: send the ${SOCIETE_HEADER} header or log in with a société`,
      );
    }
    // Logged even when refused, for audits; anything but a plain code or id is not echoed.
    requestContext.requestedSociete = /^[A-Za-z0-9_-]{1,64}$/.test(societe) ? societe : '[invalid]';
    requestContext.grant = await this.tenantAccess.authorize(user, societe);
    return true;
  }
}
