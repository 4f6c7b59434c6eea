import { BadRequestException, Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import type { AuthenticatedUser } from '../../modules/access/authentication.service';
import { AccessibleSociete, TenantAccessService } from '../../modules/access/tenant-access.service';
import { EnsureSocieteResult } from '../../modules/societes/societe-provisioning.service';
import { AdminGuard } from '../auth/admin.guard';
import { CurrentUser } from '../http-context';
import { objectBody, optionalString, requiredString } from '../request-input';
import { DEFAULT_SERVER, SocieteCreationService } from './societe-creation.service';
import { MemberRole, SocieteMembersService } from './societe-members.service';

/**
 * What POST /societes accepts. No host or port, ever (DESIGN.md invariant 7): provisioning logs in
 * with DB_PASSWORD, so a caller naming a host would receive it. Servers are declared by the
 * operator and named here.
 */
const CREATE_FIELDS = new Set(['code', 'nom', 'server']);

@Controller('societes')
export class SocietesController {
  constructor(
    private readonly tenantAccess: TenantAccessService,
    private readonly creation: SocieteCreationService,
    private readonly members: SocieteMembersService,
  ) {}

  /** The sociétés the caller belongs to. */
  @Get()
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ societes: AccessibleSociete[] }> {
    return { societes: await this.tenantAccess.societesOf(user) };
  }

  /**
   * Body: { code, nom, server? }. ADMIN only. 201 when created (the creator becomes its admin);
   * 409 when the code exists, whatever its case: creating never grants access to an existing société.
   */
  @Post()
  @UseGuards(AdminGuard)
  create(@CurrentUser() user: AuthenticatedUser, @Body() body: unknown): Promise<EnsureSocieteResult> {
    const fields = objectBody(body);
    const unknown = Object.keys(fields).filter((field) => !CREATE_FIELDS.has(field));
    if (unknown.length > 0) {
      throw new BadRequestException(
        `unknown field(s) ${unknown.map((field) => JSON.stringify(field.slice(0, 32))).join(', ')}: a société takes code, nom and server`,
      );
    }
    return this.creation.create(user, {
      code: requiredString(fields, 'code', 64),
      nom: requiredString(fields, 'nom', 255),
      server: optionalString(fields, 'server', 63) ?? DEFAULT_SERVER,
    });
  }

  /**
   * Body: { email, role? } (role: member, the default, or admin). Only an admin of this société may
   * add a member or change a member's role; anybody else gets 403, the global ADMIN role included.
   */
  @Post(':societe/members')
  addMember(
    @CurrentUser() user: AuthenticatedUser,
    @Param('societe') societe: string,
    @Body() body: unknown,
  ): Promise<{ added: boolean; societe: string; userId: string; role: MemberRole }> {
    const fields = objectBody(body);
    return this.members.add(user, societe, {
      email: requiredString(fields, 'email', 255),
      role: (optionalString(fields, 'role', 16) ?? 'member') as MemberRole,
    });
  }
}
