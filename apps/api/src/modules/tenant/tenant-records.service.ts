import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { Page, PageResult, toPageResult } from '../../common/pagination/page';
import { TenantAccessService, TenantGrant } from '../access/tenant-access.service';
import { ClientEntity } from '../../database/entities/client.entity';
import { CommandeEntity } from '../../database/entities/commande.entity';

export type ClientView = Omit<ClientEntity, 'deletedAt'>;
export type CommandeView = Omit<CommandeEntity, 'deletedAt'>;

/**
 * A société's business records, read through a grant (so through the membership check). Ordered by
 * primary key, which keeps pages stable and uses the index on tables of any size. Soft-deleted rows
 * are migrated but not shown.
 */
@Injectable()
export class TenantRecordsService {
  constructor(private readonly tenantAccess: TenantAccessService) {}

  clients(grant: TenantGrant, page: Page): Promise<PageResult<ClientView>> {
    return this.tenantAccess.withTenant(grant, async (dataSource) => {
      const rows = await dataSource.getRepository(ClientEntity).find({
        where: { deletedAt: IsNull() },
        order: { id: 'ASC' },
        take: page.limit + 1,
        skip: page.offset,
      });
      return toPageResult(rows, page);
    });
  }

  commandes(grant: TenantGrant, page: Page): Promise<PageResult<CommandeView>> {
    return this.tenantAccess.withTenant(grant, async (dataSource) => {
      const rows = await dataSource.getRepository(CommandeEntity).find({
        where: { deletedAt: IsNull() },
        order: { id: 'ASC' },
        take: page.limit + 1,
        skip: page.offset,
      });
      return toPageResult(rows, page);
    });
  }

  /** Clients that are not deleted, for checks (db:verify) rather than pages. */
  countClients(grant: TenantGrant): Promise<number> {
    return this.tenantAccess.withTenant(grant, (dataSource) =>
      dataSource.getRepository(ClientEntity).count({ where: { deletedAt: IsNull() } }),
    );
  }
}
