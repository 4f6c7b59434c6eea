import { HttpRequest, HttpResponse } from '../http-context';
import { MetricsService } from './metrics.service';

/**
 * Times every request, including those a guard refused or no route matched. The route label is
 * the matched pattern (`/tenant/clients`), never the raw path, so that ids cannot explode the
 * number of series.
 */
export function metricsMiddleware(metrics: MetricsService) {
  return (request: HttpRequest, response: HttpResponse, next: () => void): void => {
    const started = performance.now();
    response.once('finish', () => {
      const route = (request as { route?: { path?: unknown } }).route?.path;
      metrics.observeRequest(
        typeof route === 'string' ? route : 'unmatched',
        request.method ?? 'GET',
        response.statusCode,
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}
