export type { AuditEventInput, AuditEventType, AuditFinding, AuditIdentity, AuditRefUpdate, AuditSink } from './types.js';
export { AuditLog, nullAudit, openAudit, type OpenAuditOptions } from './log.js';
