// The writer alone: the audit index also loads the log's readers (verify, query, report, follow), which a hook never uses.
import { openAudit } from '../audit/log.js';
import type { AuditEventInput, AuditFinding, AuditIdentity } from '../audit/types.js';
import type { PushgateConfig } from '../config/index.js';
import type { Finding, Pusher, RefUpdate } from '../policy/index.js';
import { escapeControl, safeLine } from '../text/index.js';
import type { ResultReport } from './message.js';

// What a hook writes to the audit log came, in large part, from the pusher:
// ref names, paths, push options, and the certificate's key id. Each text
// goes through safeLine (secrets masked like findings, control characters as
// visible escapes), so the log never holds a credential in plaintext and a
// reader piping it to a terminal sees no escape sequence.

export function auditIdentity(pusher: Pusher): AuditIdentity {
  return {
    principal: escapeControl(pusher.principal),
    roles: pusher.roles.map(escapeControl),
    ...(pusher.keyId ? { keyId: safeLine(pusher.keyId) } : {}),
    ...(pusher.certSerial ? { certSerial: escapeControl(pusher.certSerial) } : {}),
    ...(pusher.keyFingerprint ? { keyFingerprint: escapeControl(pusher.keyFingerprint) } : {}),
    ...(pusher.clientAddress ? { clientAddress: escapeControl(pusher.clientAddress) } : {}),
    ...(pusher.sponsor ? { sponsor: escapeControl(pusher.sponsor) } : {}),
  };
}

/** Findings as the audit log keeps them: rule, outcome, place, and only the masked excerpt. */
export function auditFindings(findings: readonly Finding[]): AuditFinding[] {
  return findings.map((f) => ({
    rule: escapeControl(f.ruleId), action: f.action, mode: f.mode,
    ...(f.ref ? { ref: safeLine(f.ref) } : {}), ...(f.commit ? { commit: escapeControl(f.commit) } : {}),
    ...(f.path ? { path: safeLine(f.path) } : {}), ...(f.line ? { line: f.line } : {}),
    ...(f.excerpt ? { excerpt: safeLine(f.excerpt) } : {}), ...(f.fingerprint ? { fingerprint: escapeControl(f.fingerprint) } : {}),
  }));
}

/** Writes one record from a hook; false when it could not be written. */
export async function recordFromHook(config: PushgateConfig, event: AuditEventInput): Promise<boolean> {
  // A hook's stderr reaches the pusher: audit destinations never write there.
  const log = openAudit(config.audit, { stderr: false });
  try {
    await log.record(event);
    return true;
  } catch {
    return false;
  } finally {
    await log.close(shipWaitMs(config));
  }
}

/**
 * How long a hook waits, after its record is in the file, for the copies to
 * reach `audit.transports`: each POST ends by its own timeout, plus a second
 * for loading the sender. A collector that refuses answers at once; only one
 * that hangs makes the hook wait, and never longer than this.
 */
function shipWaitMs(config: PushgateConfig): number {
  const timeouts = config.audit.transports.map((t) => (t.type === 'http' ? t.timeout : 0));
  return timeouts.length === 0 ? 0 : Math.max(...timeouts) + 1000;
}

function pushFields(pusher: Pusher, repository: string, updates: readonly RefUpdate[]): Pick<AuditEventInput, 'session' | 'identity' | 'repository' | 'refUpdates'> {
  return {
    ...(pusher.sessionId ? { session: pusher.sessionId } : {}),
    identity: auditIdentity(pusher),
    repository: escapeControl(repository),
    refUpdates: updates.map((u) => ({ ref: safeLine(u.ref), old: u.oldOid, new: u.newOid })),
  };
}

/**
 * Records the decision for one push. Returns false when the record could not
 * be written, so the caller can refuse a push it could not account for.
 */
export function recordDecision(config: PushgateConfig, report: ResultReport, pusher: Pusher, updates: readonly RefUpdate[], durationMs: number): Promise<boolean> {
  return recordFromHook(config, {
    type: 'push.decision',
    ...pushFields(pusher, report.repository, updates),
    decision: report.decision,
    rules: [...new Set(report.findings.map((f) => escapeControl(f.ruleId)))],
    findings: auditFindings(report.findings),
    ...(report.queueId ? { queueId: report.queueId } : {}),
    ...(report.reason ? { reason: safeLine(report.reason) } : {}),
    durationMs,
  });
}

/** Records what git applied (post-receive): the refs as they now are; `queueId` when a review released the push. */
export function recordApplied(config: PushgateConfig, repository: string, pusher: Pusher, updates: readonly RefUpdate[], queueId: string | undefined): Promise<boolean> {
  return recordFromHook(config, { type: 'push.applied', ...pushFields(pusher, repository, updates), ...(queueId ? { queueId } : {}) });
}
