import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { contextOf, requestOf } from '../http-context';

/** The legacy role that administers the ERP; the user's role is the one AuthGuard just re-read. */
export const ADMIN_ROLE = 'ADMIN';

@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const user = contextOf(requestOf(context)).user;
    if (user?.role.toUpperCase() !== ADMIN_ROLE) {
      throw new AccessException(AccessExceptionCode.AdminRequired, 'only administrators may do this');
    }
    return true;
  }
}
