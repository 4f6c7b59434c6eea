import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LegacyMaterialEntity, SharedMaterialEntity } from '../../database/entities/material.entity';
import { SharedMaterialsService } from './shared-materials.service';

/** Shared reference data. Needs AccessModule (global) for the data mode. */
@Module({
  imports: [
    TypeOrmModule.forFeature([SharedMaterialEntity], 'shared'),
    TypeOrmModule.forFeature([LegacyMaterialEntity], 'monolith'),
  ],
  providers: [SharedMaterialsService],
  exports: [SharedMaterialsService],
})
export class SharedModule {}
