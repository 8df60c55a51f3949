/**
 * What an approval in an upstream repository needs: refresh the mirror, and
 * forward the parked push by compare-and-swap from its store. The queue
 * calls this through QueueContext.upstream; it knows nothing of upstreams.
 */
import type { AuditSink } from '../audit/types.js';
import type { PushgateConfig } from '../config/index.js';
import type { UpstreamLink, UpstreamForwarder } from '../queue/context.js';
import { forwardAuditEvent } from './events.js';
import { forwardUpdates } from './forward.js';
import { upstreamFor } from './match.js';
import { refreshMirror } from './mirror.js';

export function upstreamQueueForwarder(config: Pick<PushgateConfig, 'upstreams'>, audit: AuditSink, warn: (message: string) => void): UpstreamForwarder {
  return {
    forRepository(repository: string, gitDir: string): UpstreamLink | undefined {
      const target = upstreamFor(config, repository);
      if (target === undefined) return undefined;
      return {
        name: target.upstream.name,
        async refresh() {
          await refreshMirror(gitDir, target, { force: true });
        },
        async forward(store, updates, who) {
          const result = await forwardUpdates(target, updates, { gitDir: store });
          await audit.record(forwardAuditEvent(target, updates, result, who)).catch((error: unknown) => warn(`the upstream.forward record could not be written: ${(error as Error).message}`));
          return { outcome: result.outcome, message: [result.message, ...result.said.map((l) => `upstream: ${l}`)].join(' / '), ...(result.staleRef !== undefined ? { staleRef: result.staleRef } : {}) };
        },
      };
    },
  };
}
