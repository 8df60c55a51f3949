import type { AuditEventInput, AuditEventType, AuditIdentity, AuditSink } from '../audit/index.js';
import type { QueueIdentity, QueueRecord } from './record.js';

export function auditIdentity(who: QueueIdentity): AuditIdentity {
  const out: AuditIdentity = { principal: who.principal, roles: [...who.roles] };
  if (who.keyId !== undefined) out.keyId = who.keyId;
  if (who.certSerial !== undefined) out.certSerial = who.certSerial;
  if (who.keyFingerprint !== undefined) out.keyFingerprint = who.keyFingerprint;
  if (who.clientAddress !== undefined) out.clientAddress = who.clientAddress;
  if (who.sponsor !== undefined) out.sponsor = who.sponsor;
  return out;
}

/** One queue transition as an audit event: the entry, its refs and findings, who pushed and who acted. */
export function queueAuditEvent(type: AuditEventType, record: QueueRecord, extra: { reviewer?: QueueIdentity; result?: string; reason?: string; code?: string } = {}): AuditEventInput {
  return {
    type,
    queueId: record.id,
    repository: record.repository,
    identity: auditIdentity(record.pusher),
    ...(record.pusher.sessionId === undefined ? {} : { session: record.pusher.sessionId }),
    refUpdates: record.updates.map((u) => ({ ref: u.ref, old: u.old, new: u.new })),
    ...(type === 'queue.park' ? {
      decision: 'park' as const,
      rules: [...new Set(record.findings.map((f) => f.ruleId))],
      findings: record.findings.map((f) => ({
        rule: f.ruleId, action: f.action, mode: f.mode,
        ...(f.ref === undefined ? {} : { ref: f.ref }), ...(f.commit === undefined ? {} : { commit: f.commit }),
        ...(f.path === undefined ? {} : { path: f.path }), ...(f.line === undefined ? {} : { line: f.line }),
        ...(f.excerpt === undefined ? {} : { excerpt: f.excerpt }), ...(f.fingerprint === undefined ? {} : { fingerprint: f.fingerprint }),
      })),
    } : {}),
    ...(extra.reviewer === undefined ? {} : { reviewer: auditIdentity(extra.reviewer) }),
    result: extra.result ?? record.state,
    ...(extra.reason === undefined ? {} : { reason: extra.reason }),
    ...(extra.code === undefined ? {} : { code: extra.code }),
  };
}

/** Auditing must not undo a transition that already happened; a failure to record is reported, not thrown. */
export async function recordAudit(sink: AuditSink, event: AuditEventInput, warn: (message: string) => void): Promise<void> {
  try {
    await sink.record(event);
  } catch (error) {
    warn(`could not write the audit record for ${event.type} ${event.queueId ?? ''}: ${(error as Error).message}`);
  }
}
