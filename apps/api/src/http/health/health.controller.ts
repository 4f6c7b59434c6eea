import { Controller, Get, Res } from '@nestjs/common';
import { Public } from '../auth/auth.guard';
import { HttpResponse } from '../http-context';
import { HealthReport, HealthService } from './health.service';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /**
   * Public, for load balancers: 503 only when the app cannot work at all (AUTH/SHARED or the
   * monolith unreachable); a missing tenant database is "degraded" with 200, so that one société's
   * problem never takes the others out of rotation.
   */
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) response: HttpResponse): Promise<HealthReport> {
    const report = await this.health.check();
    response.statusCode = report.status === 'down' ? 503 : 200;
    return report;
  }
}
