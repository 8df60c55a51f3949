export type AuditErrorCode =
  | 'audit.invalid-event'
  | 'audit.lock-timeout'
  | 'audit.corrupt-tail'
  | 'audit.key'
  | 'audit.closed'
  | 'audit.io';

/** A failure of the audit trail, with a stable code and a message that says what to do. */
export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuditError';
  }
}
