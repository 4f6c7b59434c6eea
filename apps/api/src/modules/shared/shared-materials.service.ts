import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { Page, PageResult, toPageResult } from '../../common/pagination/page';
import { LegacyMaterialEntity, SharedMaterialEntity } from '../../database/entities/material.entity';
import { ConnectionOpenerService } from '../database/connection-opener.service';
import { DataModeService } from '../database/data-mode.service';

export type MaterialView = Omit<SharedMaterialEntity, 'deletedAt'>;

/** Reference materials, common to every société: SHARED after the split, `materiaux` in monolith mode. */
@Injectable()
export class SharedMaterialsService {
  constructor(
    private readonly dataMode: DataModeService,
    private readonly opener: ConnectionOpenerService,
    @InjectRepository(SharedMaterialEntity, 'shared')
    private readonly sharedMaterials: Repository<SharedMaterialEntity>,
    @InjectRepository(LegacyMaterialEntity, 'monolith')
    private readonly legacyMaterials: Repository<LegacyMaterialEntity>,
  ) {}

  async list(page: Page): Promise<PageResult<MaterialView>> {
    const materials = await this.opener.ready(
      this.dataMode.isMonolith ? this.legacyMaterials : this.sharedMaterials,
    );
    const rows = await materials.find({
      where: { deletedAt: IsNull() },
      order: { code: { direction: 'ASC', nulls: 'LAST' }, id: 'ASC' },
      take: page.limit + 1,
      skip: page.offset,
    });
    return toPageResult(rows, page);
  }
}
