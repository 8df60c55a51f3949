/**
 * Push decisions, findings and check durations, read from the audit log:
 * the hook runs in processes of its own (git-receive-pack under the gateway
 * or sshd, local pushes), and the audit log is where all of them meet.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { followLog, parseRecordLine, type AuditRecord } from '../audit/index.js';
import type { PushgateMetrics } from './registry.js';

const DECISIONS = new Set(['allow', 'park', 'deny']);

/** `deny` / `park` for an enforced finding, `would-deny` / `would-park` for an audit-only one. */
export function findingDecision(action: string, mode: string): string {
  return mode === 'audit' ? `would-${action}` : action;
}

/** Counts one `push.decision` record; other records are ignored. */
export function countDecision(metrics: PushgateMetrics, record: AuditRecord): void {
  if (record.type !== 'push.decision') return;
  if (record.decision !== undefined && DECISIONS.has(record.decision)) metrics.pushDecisions.inc({ decision: record.decision });
  for (const finding of record.findings ?? []) {
    metrics.pushFindings.inc({ rule: finding.rule, decision: findingDecision(finding.action, finding.mode) });
  }
  if (typeof record.durationMs === 'number' && Number.isFinite(record.durationMs) && record.durationMs >= 0) {
    metrics.scanDuration.observe(record.durationMs / 1000);
  }
}

const FORWARD_RESULTS = new Set(['accepted', 'rejected', 'stale', 'unavailable']);

/** Counts one `upstream.forward` record (upstream mode); other records are ignored. */
export function countUpstreamForward(metrics: PushgateMetrics, record: AuditRecord): void {
  if (record.type !== 'upstream.forward' || record.result === undefined || !FORWARD_RESULTS.has(record.result)) return;
  metrics.upstreamForwards.inc({ upstream: metrics.upstreamLabel(record.upstream), result: record.result });
}

/** Counts a line of the audit log when it is a `push.decision` or `upstream.forward` record. */
export function countDecisionLine(metrics: PushgateMetrics, line: string): void {
  // Most records are session events: skip them without parsing.
  const decision = line.includes('"push.decision"');
  if (!decision && !line.includes('"upstream.forward"')) return;
  const parsed = parseRecordLine(line);
  if (!('record' in parsed)) return;
  if (decision) countDecision(metrics, parsed.record);
  countUpstreamForward(metrics, parsed.record);
}

export interface FollowDecisionsOptions {
  signal: AbortSignal;
  /** Offset in the current file to start from (taken when the server became ready); its end by default. */
  from?: number;
  onError(error: Error): void;
  intervalMs?: number;
  /** Wait before following again after an error. */
  retryMs?: number;
}

/**
 * Follows the audit log from its current end (what happened before the
 * server started is not counted again), across rotation, until `signal`
 * aborts. A failure to read is reported and the follow starts over from
 * the end: metrics may miss records then, the audit log never does.
 */
export async function followDecisions(file: string, metrics: PushgateMetrics, options: FollowDecisionsOptions): Promise<void> {
  const { signal } = options;
  let from = options.from;
  while (!signal.aborted) {
    try {
      await followLog(file, (line) => countDecisionLine(metrics, line), { signal, intervalMs: options.intervalMs ?? 500, ...(from !== undefined ? { from } : {}) });
    } catch (error) {
      if (signal.aborted) return;
      options.onError(error as Error);
      from = undefined;
      await sleep(options.retryMs ?? 5000, undefined, { signal }).catch(() => undefined);
    }
  }
}
