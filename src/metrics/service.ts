/** Wires the metrics of one `pushgate serve`: gateway events, issuance outcomes, the audit log, the queue. */
import { statSync } from 'node:fs';
import { readAuditHead } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import type { GatewayEventListener, OperatorLog } from '../gateway/index.js';
import type { Route } from '../http/index.js';
import type { IssuanceObserver } from '../issuance/index.js';
import { mirrorAge, observeRefreshes } from '../upstream/index.js';
import { followDecisions } from './decisions.js';
import { gatewayEventListener } from './gateway.js';
import { cachedQueueCounts } from './queue.js';
import { PushgateMetrics } from './registry.js';
import { metricsRoute } from './route.js';

export interface ServeMetrics {
  readonly metrics: PushgateMetrics;
  /** For `new Gateway({ onEvent })`. */
  readonly onGatewayEvent: GatewayEventListener;
  /** For `startHttpService({ issuance })`. */
  readonly issuance: IssuanceObserver;
  /** For `startHttpService({ routes })`. */
  readonly routes: Route[];
  /** Starts following the audit log. */
  start(): void;
  stop(): Promise<void>;
}

export function createServeMetrics(config: () => PushgateConfig, log: OperatorLog): ServeMetrics {
  let auditFile: string | undefined;
  // Upstream mode: the mirrors this server refreshed (gitDir → upstream name), for the staleness gauge.
  const mirrors = new Map<string, string>();
  const upstreamNames = (): ReadonlySet<string> => new Set(config().upstreams.map((u) => u.name));
  const metrics = new PushgateMetrics({
    upstreams: {
      names: upstreamNames,
      mirrorAges() {
        const names = upstreamNames();
        const oldest = new Map<string, number>();
        for (const [gitDir, upstream] of mirrors) {
          if (!names.has(upstream)) continue;
          const age = mirrorAge(gitDir);
          if (Number.isFinite(age)) oldest.set(upstream, Math.max(oldest.get(upstream) ?? 0, age / 1000));
        }
        return oldest;
      },
    },
    queueEntries: cachedQueueCounts({
      reposRoot: () => config().reposRoot,
      onProblem: (repository, message) => log.warn('metrics: queue entries not counted', { repository, error: message }),
    }),
    // The file is fixed at the first scrape, like the audit writer's at start.
    auditHead: () => readAuditHead(auditFile ??= config().audit.file),
  });
  const stopping = new AbortController();
  let following: Promise<void> | undefined;
  const unobserve = observeRefreshes((event) => {
    if (event.gitDir !== '') mirrors.set(event.gitDir, event.upstream);
    metrics.upstreamRefreshDuration.observe({ upstream: metrics.upstreamLabel(event.upstream), result: event.ok ? 'ok' : 'error' }, event.durationMs / 1000);
  });
  return {
    metrics,
    onGatewayEvent: gatewayEventListener(metrics),
    issuance: {
      issued: (issuer) => metrics.certificatesIssued.inc({ issuer }),
      refused: (code) => metrics.certificateRefusals.inc({ reason: code }),
    },
    routes: [metricsRoute(metrics, config)],
    start() {
      // The file is fixed at start, like the audit writer's. Its size is taken now, so every
      // decision written once the server says it is ready is counted.
      const file = config().audit.file;
      const size = statSync(file, { throwIfNoEntry: false })?.size;
      following ??= followDecisions(file, metrics, {
        signal: stopping.signal,
        ...(size !== undefined ? { from: size } : {}),
        onError: (error) => log.error('metrics: cannot follow the audit log; retrying', { file, error: error.message }),
      });
    },
    async stop() {
      unobserve();
      stopping.abort();
      await following;
    },
  };
}
