import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from './app/app-config';
import { AuthController } from './app/auth/auth.controller';
import { AuthGuard } from './app/auth/auth.guard';
import { LoginService } from './app/auth/login.service';
import { TokenService } from './app/auth/token.service';
import { HealthController } from './app/health/health.controller';
import { HealthService } from './app/health/health.service';
import { HttpExceptionFilter } from './app/http-exception.filter';
import { ApplicationLogService } from './app/logging/application-log.service';
import { SharedController } from './app/shared/shared.controller';
import { SocieteCreationService } from './app/societes/societe-creation.service';
import { SocietesController } from './app/societes/societes.controller';
import { TenantController } from './app/tenant/tenant.controller';
import { TenantGuard } from './app/tenant/tenant.guard';
import { AccessModule } from './modules/access/access.module';
import { DatabaseMultiTenantModule } from './modules/database/database-multi-tenant.module';
import { SharedModule } from './modules/shared/shared.module';
import { TenantDataModule } from './modules/tenant/tenant-data.module';

/**
 * The HTTP app on the split databases (or the monolith with DB_MODE=monolith). Every route needs a
 * token unless marked @Public; tenant routes also need a membership grant (TenantGuard).
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, log: ApplicationLogService): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DatabaseMultiTenantModule,
        AccessModule.register({ mode: config.mode }),
        SharedModule,
        TenantDataModule,
      ],
      controllers: [AuthController, HealthController, SocietesController, SharedController, TenantController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: ApplicationLogService, useValue: log },
        TokenService,
        LoginService,
        SocieteCreationService,
        HealthService,
        TenantGuard,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
