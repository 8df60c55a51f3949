export type { AuditEventInput, AuditEventType, AuditFinding, AuditIdentity, AuditRefUpdate, AuditSink } from './types.js';
