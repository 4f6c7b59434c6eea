import { Controller, Get, HttpException, Inject, NotFoundException, Req, Res } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../app-config';
import { Public } from '../auth/auth.guard';
import { headerValue, HttpRequest, HttpResponse } from '../http-context';
import { MetricsService } from './metrics.service';

const sameSecret = (given: string, expected: string): boolean => {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * GET /metrics for Prometheus. Not behind a user login (a scraper has none) but behind its own
 * bearer, METRICS_TOKEN; without that variable the route does not exist (404).
 */
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  @Public()
  @Get()
  async scrape(
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpResponse,
  ): Promise<string> {
    const token = this.config.metricsToken?.reveal();
    if (!token) throw new NotFoundException();
    const given = /^Bearer (.+)$/i.exec(headerValue(request, 'authorization') ?? '')?.[1] ?? '';
    if (!sameSecret(given, token)) {
      response.setHeader('www-authenticate', 'Bearer realm="metrics"');
      throw new HttpException('a valid METRICS_TOKEN bearer is required', 401);
    }
    response.setHeader('content-type', this.metrics.registry.contentType);
    return this.metrics.registry.metrics();
  }
}
