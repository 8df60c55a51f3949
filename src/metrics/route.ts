import type { PushgateConfig } from '../config/index.js';
import { HttpError, type Route, type RouteResponse } from '../http/index.js';
import type { PushgateMetrics } from './registry.js';

/** `GET /metrics`: not rate-limited (scrapers poll); 404 while `http.metrics` is false. */
export function metricsRoute(metrics: PushgateMetrics, config: () => PushgateConfig): Route {
  return {
    method: 'GET',
    path: '/metrics',
    limited: false,
    async handle(): Promise<RouteResponse> {
      if (!config().http.metrics) throw new HttpError(404, 'not-found', 'metrics are switched off on this server (http.metrics: false)');
      return { status: 200, text: await metrics.text(), headers: { 'content-type': metrics.contentType } };
    },
  };
}
