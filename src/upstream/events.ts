/**
 * Audit records of the upstream module, and an in-process observer the
 * metrics of a running server subscribe to (refreshes happen in the server
 * process; forwards, in hook processes, are counted from the audit log).
 */
import type { AuditEventInput } from '../audit/types.js';
import { escapeControl } from '../text/index.js';
import type { ForwardResult, ForwardUpdate } from './forward.js';
import type { UpstreamTarget } from './match.js';

export function forwardAuditEvent(target: UpstreamTarget, updates: readonly ForwardUpdate[], result: ForwardResult, extra: Pick<AuditEventInput, 'session' | 'identity' | 'queueId' | 'reviewer'> = {}): AuditEventInput {
  return {
    type: 'upstream.forward',
    ...extra,
    upstream: target.upstream.name,
    repository: escapeControl(target.repository),
    refUpdates: updates.map((u) => ({ ref: escapeControl(u.ref), old: u.oldOid, new: u.newOid })),
    result: result.outcome,
    ...(result.outcome === 'accepted' ? {} : { code: result.outcome === 'unavailable' ? 'upstream.unavailable' : 'upstream.rejected', reason: [result.message, ...result.said].join(' / ') }),
    durationMs: result.durationMs,
    bytesOut: result.bytes,
  };
}

export function refreshFailureEvent(target: UpstreamTarget, message: string, extra: Pick<AuditEventInput, 'session' | 'identity'> = {}): AuditEventInput {
  return { type: 'upstream.refresh', ...extra, upstream: target.upstream.name, repository: escapeControl(target.repository), result: 'error', code: 'upstream.unavailable', reason: message };
}

export interface RefreshObservation {
  upstream: string;
  repository: string;
  gitDir: string;
  ok: boolean;
  durationMs: number;
}

type Observer = (event: RefreshObservation) => void;
const observers = new Set<Observer>();

/** Sees every refresh this process runs; returns the unsubscribe. */
export function observeRefreshes(observer: Observer): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

export function reportRefresh(event: RefreshObservation): void {
  for (const observer of observers) {
    try {
      observer(event);
    } catch {
      // An observer's failure is not the refresh's.
    }
  }
}
