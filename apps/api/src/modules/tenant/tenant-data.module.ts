import { Module } from '@nestjs/common';
import { TenantRecordsService } from './tenant-records.service';

/** A société's business records. Needs AccessModule (global) for the grants. */
@Module({ providers: [TenantRecordsService], exports: [TenantRecordsService] })
export class TenantDataModule {}
