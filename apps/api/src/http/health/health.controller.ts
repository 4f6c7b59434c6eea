import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { AdminGuard } from '../auth/admin.guard';
import { Public } from '../auth/auth.guard';
import { HttpResponse } from '../http-context';
import { HealthProbe, HealthProbeService } from './health-probe.service';
import { HealthReport, HealthService } from './health.service';

@Controller('health')
export class HealthController {
  constructor(
    private readonly probe: HealthProbeService,
    private readonly health: HealthService,
  ) {}

  /**
   * Public, for load balancers: status, mode and version only, 503 when the app cannot work at all
   * (AUTH/SHARED or the monolith unreachable). Nothing about sociétés, databases or servers.
   */
  @Public()
  @Get()
  async check(@Res({ passthrough: true }) response: HttpResponse): Promise<HealthProbe> {
    const probe = await this.probe.probe();
    response.statusCode = probe.status === 'down' ? 503 : 200;
    return probe;
  }

  /**
   * ADMIN only: every database with its server and connections, and the tenant DataSource cache. A
   * missing tenant database is "degraded" with 200, so that one société's problem is visible here
   * without taking the app out of rotation.
   */
  @UseGuards(AdminGuard)
  @Get('details')
  async details(@Res({ passthrough: true }) response: HttpResponse): Promise<HealthReport> {
    const report = await this.health.check();
    response.statusCode = report.status === 'down' ? 503 : 200;
    return report;
  }
}
