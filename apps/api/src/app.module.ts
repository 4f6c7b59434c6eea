import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from './http/app-config';
import { AuthController } from './http/auth/auth.controller';
import { AuthGuard } from './http/auth/auth.guard';
import { LoginService } from './http/auth/login.service';
import { TokenService } from './http/auth/token.service';
import { HashGateService } from './http/auth/hash-gate.service';
import { LoginThrottleService } from './http/auth/login-throttle.service';
import { HealthProbeService } from './http/health/health-probe.service';
import { HealthController } from './http/health/health.controller';
import { HealthService } from './http/health/health.service';
import { MetricsController } from './http/metrics/metrics.controller';
import { MetricsService } from './http/metrics/metrics.service';
import { HttpExceptionFilter } from './http/http-exception.filter';
import { ApplicationLogService } from './http/logging/application-log.service';
import { SharedController } from './http/shared/shared.controller';
import { SocieteCreationService } from './http/societes/societe-creation.service';
import { SocieteMembersService } from './http/societes/societe-members.service';
import { SocietesController } from './http/societes/societes.controller';
import { TenantController } from './http/tenant/tenant.controller';
import { TenantGuard } from './http/tenant/tenant.guard';
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
      controllers: [
        AuthController,
        HealthController,
        MetricsController,
        SocietesController,
        SharedController,
        TenantController,
      ],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: ApplicationLogService, useValue: log },
        TokenService,
        LoginService,
        LoginThrottleService,
        HashGateService,
        SocieteCreationService,
        SocieteMembersService,
        HealthProbeService,
        HealthService,
        MetricsService,
        TenantGuard,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: HttpExceptionFilter },
      ],
    };
  }
}
