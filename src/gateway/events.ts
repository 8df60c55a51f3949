import { randomBytes } from 'node:crypto';
import type { AuditEventInput, AuditIdentity, AuditSink } from '../audit/index.js';
import type { Identity } from '../identity/index.js';
import type { OperatorLog } from './log.js';

/** The identity as the audit log records it. */
export function auditIdentity(identity: Identity): AuditIdentity {
  return {
    principal: identity.principal,
    roles: identity.roles,
    ...(identity.keyId !== undefined ? { keyId: identity.keyId } : {}),
    ...(identity.certSerial !== undefined ? { certSerial: identity.certSerial } : {}),
    ...(identity.keyFingerprint !== undefined ? { keyFingerprint: identity.keyFingerprint } : {}),
    ...(identity.clientAddress !== undefined ? { clientAddress: identity.clientAddress } : {}),
    ...(identity.sponsor !== undefined ? { sponsor: identity.sponsor } : {}),
  };
}

/** 12 hex characters naming a connection; its commands are `<id>-<n>`. */
export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

/** Before authentication there is no principal; `-` stands for "not known yet". */
export const UNKNOWN_PRINCIPAL = '-';

/** Records an event without letting an audit failure break the connection; the failure goes to the operator log. */
export class EventRecorder {
  constructor(
    private readonly audit: AuditSink,
    private readonly log: OperatorLog,
  ) {}

  record(event: AuditEventInput): void {
    this.audit.record(event).catch((error: unknown) => {
      this.log.error('audit record failed', { type: event.type, error: (error as Error).message });
    });
  }
}
