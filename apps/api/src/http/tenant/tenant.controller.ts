import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { PageResult } from '../../common/pagination/page';
import type { TenantGrant } from '../../modules/access/tenant-access.service';
import { ClientView, CommandeView, TenantRecordsService } from '../../modules/tenant/tenant-records.service';
import { CurrentGrant } from '../http-context';
import { pageFrom } from '../request-input';
import { TenantGuard } from './tenant.guard';

/** The société's own data: x-societe-id (or the token's société), membership checked by TenantGuard. */
@Controller('tenant')
@UseGuards(TenantGuard)
export class TenantController {
  constructor(private readonly records: TenantRecordsService) {}

  @Get('clients')
  clients(
    @CurrentGrant() grant: TenantGrant,
    @Query() query: Record<string, unknown>,
  ): Promise<PageResult<ClientView>> {
    return this.records.clients(grant, pageFrom(query));
  }

  @Get('commandes')
  commandes(
    @CurrentGrant() grant: TenantGrant,
    @Query() query: Record<string, unknown>,
  ): Promise<PageResult<CommandeView>> {
    return this.records.commandes(grant, pageFrom(query));
  }
}
