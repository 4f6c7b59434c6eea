import { Module } from '@nestjs/common';
import { SharedMaterialsService } from './shared-materials.service';

/** Shared reference data. Needs AccessModule (global) for the data mode. */
@Module({ providers: [SharedMaterialsService], exports: [SharedMaterialsService] })
export class SharedModule {}
