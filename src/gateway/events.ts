import { randomBytes } from 'node:crypto';
import type { AuditEventInput, AuditIdentity, AuditSink } from '../audit/index.js';
import type { Identity } from '../identity/index.js';
import type { OperatorLog } from './log.js';
import { PreAuthLedger, type DetailPolicy, type PreAuthKind, type PreAuthSettings } from './preauth.js';

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
  /** Set when pre-authentication events are aggregated (the gateway); without it they are written one by one. */
  readonly preAuth: PreAuthLedger | undefined;

  constructor(
    private readonly audit: AuditSink,
    private readonly log: OperatorLog,
    private readonly listener?: GatewayEventListener,
    preAuthSettings?: () => PreAuthSettings,
  ) {
    this.preAuth = preAuthSettings === undefined ? undefined : new PreAuthLedger((event) => this.#write(event), log, preAuthSettings);
  }

  record(event: AuditEventInput): void {
    this.#notify(event);
    this.#write(event);
  }

  /**
   * An event of a peer that has not authenticated: the listener (metrics)
   * sees it; the audit log gets only the count, in the address's summary.
   */
  preAuthEvent(address: string, kind: PreAuthKind, event: AuditEventInput): void {
    this.#notify(event);
    if (this.preAuth === undefined) this.#write(event);
    else this.preAuth.count(address, kind, event.code);
  }

  /** A failed authentication attempt: counted, and written in full as the policy allows. */
  preAuthAttempt(address: string, event: AuditEventInput, policy: DetailPolicy): void {
    this.#notify(event);
    if (this.preAuth === undefined) this.#write(event);
    else this.preAuth.attempt(address, event, policy);
  }

  #notify(event: AuditEventInput): void {
    if (this.listener === undefined) return;
    try {
      this.listener(event);
    } catch (error) {
      this.log.error('event listener failed', { type: event.type, error: (error as Error).message });
    }
  }

  #write(event: AuditEventInput): void {
    this.audit.record(event).catch((error: unknown) => {
      this.log.error('audit record failed', { type: event.type, error: (error as Error).message });
    });
  }
}
