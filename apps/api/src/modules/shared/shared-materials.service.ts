import { Injectable } from '@nestjs/common';
import { IsNull } from 'typeorm';
import { Page, PageResult, toPageResult } from '../../common/pagination/page';
import { DataModeService } from '../access/data-mode.service';
import { LegacyMaterialEntity, SharedMaterialEntity } from '../../database/entities/material.entity';

export type MaterialView = Omit<SharedMaterialEntity, 'deletedAt'>;

/** Reference materials, common to every société: SHARED after the split, `materiaux` in monolith mode. */
@Injectable()
export class SharedMaterialsService {
  constructor(private readonly dataMode: DataModeService) {}

  async list(page: Page): Promise<PageResult<MaterialView>> {
    const dataSource = await this.dataMode.shared();
    const entity = this.dataMode.isMonolith ? LegacyMaterialEntity : SharedMaterialEntity;
    const rows = await dataSource.getRepository(entity).find({
      where: { deletedAt: IsNull() },
      order: { code: { direction: 'ASC', nulls: 'LAST' }, id: 'ASC' },
      take: page.limit + 1,
      skip: page.offset,
    });
    return toPageResult(rows, page);
  }
}
