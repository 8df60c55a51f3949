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

/** Sees every event the gateway records, as it happens (metrics subscribe here). */
export type GatewayEventListener = (event: Readonly<AuditEventInput>) => void;

/**
 * Records an event without letting an audit failure break the connection;
 * the failure goes to the operator log. A listener sees the event first, so
 * it never waits on the audit write.
 */
export class EventRecorder {
  constructor(
    private readonly audit: AuditSink,
    private readonly log: OperatorLog,
    private readonly listener?: GatewayEventListener,
  ) {}

  record(event: AuditEventInput): void {
    if (this.listener !== undefined) {
      try {
        this.listener(event);
      } catch (error) {
        this.log.error('event listener failed', { type: event.type, error: (error as Error).message });
      }
    }
    this.audit.record(event).catch((error: unknown) => {
      this.log.error('audit record failed', { type: event.type, error: (error as Error).message });
    });
  }
}
