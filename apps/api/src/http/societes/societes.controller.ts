import { Body, Controller, Get, Post, Res, UseGuards } from '@nestjs/common';
import type { AuthenticatedUser } from '../../modules/access/authentication.service';
import { AccessibleSociete, TenantAccessService } from '../../modules/access/tenant-access.service';
import { EnsureSocieteResult } from '../../modules/societes/societe-provisioning.service';
import { AdminGuard } from '../auth/admin.guard';
import { CurrentUser, HttpResponse } from '../http-context';
import { objectBody, optionalInteger, optionalString, requiredString } from '../request-input';
import { SocieteCreationService } from './societe-creation.service';

@Controller('societes')
export class SocietesController {
  constructor(
    private readonly tenantAccess: TenantAccessService,
    private readonly creation: SocieteCreationService,
  ) {}

  /** The sociétés the caller belongs to. */
  @Get()
  async list(@CurrentUser() user: AuthenticatedUser): Promise<{ societes: AccessibleSociete[] }> {
    return { societes: await this.tenantAccess.societesOf(user) };
  }

  /** Body: { code, nom, server?, host?, port? }. ADMIN only. 201 when created, 200 when it already existed. */
  @Post()
  @UseGuards(AdminGuard)
  async create(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: unknown,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<EnsureSocieteResult> {
    const fields = objectBody(body);
    const result = await this.creation.create(user, {
      code: requiredString(fields, 'code', 64),
      nom: requiredString(fields, 'nom', 255),
      host: optionalString(fields, 'host'),
      port: optionalInteger(fields, 'port'),
      // A server declared in TENANT_SERVERS; an unknown name is a 400 and nothing is created.
      server: optionalString(fields, 'server'),
    });
    response.statusCode = result.created ? 201 : 200;
    return result;
  }
}
