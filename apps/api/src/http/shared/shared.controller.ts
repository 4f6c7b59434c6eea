import { Controller, Get, Query } from '@nestjs/common';
import { PageResult } from '../../common/pagination/page';
import { MaterialView, SharedMaterialsService } from '../../modules/shared/shared-materials.service';
import { pageFrom } from '../request-input';

/** Reference data common to every société: any authenticated user may read it. */
@Controller('shared')
export class SharedController {
  constructor(private readonly materials: SharedMaterialsService) {}

  @Get('materials')
  list(@Query() query: Record<string, unknown>): Promise<PageResult<MaterialView>> {
    return this.materials.list(pageFrom(query));
  }
}
