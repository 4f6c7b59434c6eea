import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UserEntity } from '../../database/entities/user.entity';
import { DATA_MODE, DataMode, DataModeService } from '../database/data-mode.service';
import { SocietesModule } from '../societes/societes.module';
import { AuthenticationService } from './authentication.service';
import { TenantAccessService } from './tenant-access.service';

const SERVICES = [DataModeService, AuthenticationService, TenantAccessService];

/**
 * Who may read what: credentials, memberships, tenant grants, in the given data mode. Global and
 * registered once (by the HTTP app with DB_MODE, by the CLI with multi-tenant) so that every module
 * sees the same grants. Needs no JWT_SECRET: tokens belong to the HTTP layer.
 */
@Module({})
export class AccessModule {
  static register(options: { mode: DataMode }): DynamicModule {
    return {
      module: AccessModule,
      global: true,
      imports: [
        SocietesModule,
        TypeOrmModule.forFeature([UserEntity], 'auth'),
        TypeOrmModule.forFeature([UserEntity], 'monolith'),
      ],
      providers: [{ provide: DATA_MODE, useValue: options.mode }, ...SERVICES],
      exports: [...SERVICES, SocietesModule],
    };
  }
}
