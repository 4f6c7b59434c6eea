import { Module } from '@nestjs/common';
import { SharedModule } from '../shared/shared.module';
import { TenantDataModule } from '../tenant/tenant-data.module';
import { AccessCheckService } from './access-check.service';
import { AccessModule } from '../access/access.module';

/**
 * For the CLI (db:verify): the app's access rules on the split databases, without HTTP and without
 * JWT_SECRET. Import it next to DatabaseMultiTenantModule; do not import it into the HTTP app, which
 * registers AccessModule with its own DB_MODE.
 */
@Module({
  imports: [AccessModule.register({ mode: 'multi-tenant' }), SharedModule, TenantDataModule],
  providers: [AccessCheckService],
  exports: [AccessCheckService],
})
export class AccessCheckModule {}
