/**
 * One schema for every audit record. A push's story joins on `session`
 * (gateway → hook), `queueId` (park → review → apply) and the identity.
 */
export type AuditEventType =
  | 'ssh.connect'
  | 'ssh.auth'
  | 'ssh.command'
  | 'ssh.session-end'
  | 'ssh.disconnect'
  | 'cert.issue'
  | 'cert.refuse'
  | 'push.decision'
  | 'push.applied'
  | 'queue.park'
  | 'queue.approve'
  | 'queue.reject'
  | 'queue.expire'
  | 'queue.stale'
  | 'queue.apply'
  | 'config.reload'
  | 'server.start'
  | 'server.stop'
  | 'upstream.forward'
  | 'upstream.refresh';

export interface AuditIdentity {
  principal: string;
  roles?: string[];
  keyId?: string;
  certSerial?: string;
  keyFingerprint?: string;
  clientAddress?: string;
  sponsor?: string;
}

export interface AuditRefUpdate {
  ref: string;
  old: string;
  new: string;
}

/** A finding as recorded: masked excerpt and fingerprint only, never a value. */
export interface AuditFinding {
  rule: string;
  action: string;
  mode: string;
  ref?: string;
  commit?: string;
  path?: string;
  line?: number;
  excerpt?: string;
  fingerprint?: string;
}

/** What callers pass; the log adds time, sequence and chain fields. */
export interface AuditEventInput {
  type: AuditEventType;
  session?: string;
  identity?: AuditIdentity;
  repository?: string;
  refUpdates?: AuditRefUpdate[];
  decision?: 'allow' | 'park' | 'deny';
  rules?: string[];
  findings?: AuditFinding[];
  queueId?: string;
  reviewer?: AuditIdentity;
  command?: string;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  /** `ok`, `refused`, `error`, an exit code as text, … */
  result?: string;
  /** A stable reason code (`cert.expired`, `access.denied`, …). */
  code?: string;
  reason?: string;
  /** The upstream's name (upstream mode). */
  upstream?: string;
}

export interface AuditSink {
  record(event: AuditEventInput): Promise<void>;
}

/** What the log writes: the event plus version, time, sequence and chain fields. */
export interface AuditRecord extends AuditEventInput {
  v: 1;
  /** UTC ISO-8601 with milliseconds, stamped when the record is written. */
  time: string;
  /** Position in its file, from 1. */
  seq: number;
  /** `hash` of the record before it (in this file or the one rotated before it), or the genesis value. */
  prev: string;
  /** SHA-256 (HMAC-SHA256 with a key) of the canonical JSON of the record without `hash`. */
  hash: string;
}
