import { BadRequestException, Injectable } from '@nestjs/common';
import { AccessException, AccessExceptionCode } from '../../modules/access/access.exception';
import { AuthenticatedUser } from '../../modules/access/authentication.service';
import { DataModeService } from '../../modules/database/data-mode.service';
import { TenantAccessService } from '../../modules/access/tenant-access.service';
import { SocieteMembershipService } from '../../modules/societes/societe-membership.service';

/** The membership roles the API grants; `admin` may add members and grant roles. */
export const MEMBER_ROLES = ['member', 'admin'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export type AddMemberRequest = { email: string; role: MemberRole };

/**
 * POST /societes/:societe/members: the one way into an existing société over HTTP. Only an admin
 * *of that société* may add a member; the global ADMIN role gives no say over a société one does
 * not belong to (an operator can still add anybody with the CLI).
 */
@Injectable()
export class SocieteMembersService {
  constructor(
    private readonly dataMode: DataModeService,
    private readonly tenantAccess: TenantAccessService,
    private readonly membership: SocieteMembershipService,
  ) {}

  async add(
    user: AuthenticatedUser,
    societe: string,
    request: AddMemberRequest,
  ): Promise<{ added: boolean; societe: string; userId: string; role: MemberRole }> {
    if (this.dataMode.isMonolith) {
      throw new AccessException(AccessExceptionCode.MonolithMode, 'members cannot be added in monolith mode');
    }
    if (!MEMBER_ROLES.includes(request.role))
      throw new BadRequestException(`role must be one of ${MEMBER_ROLES.join(', ')}`);
    // Not a member and unknown société look the same (403), as on tenant routes.
    const grant = await this.tenantAccess.authorize(user, societe);
    if (grant.societe.role !== 'admin') {
      throw new AccessException(
        AccessExceptionCode.AdminRequired,
        'only an admin of this société may add members',
      );
    }
    const result = await this.membership.addMember(
      grant.societe.societeId ?? grant.societe.code,
      request.email,
      {
        role: request.role,
      },
    );
    return { added: result.added, societe: grant.societe.code, userId: result.userId, role: request.role };
  }
}
