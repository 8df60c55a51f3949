import type { AuditSink } from '../audit/index.js';
import type { QueueConfig } from '../config/types.js';
import type { NotifyEvent } from './notify.js';

/** What the review operations need besides the entry: rules, audit, notifications, a clock. */
export interface QueueContext {
  queue: QueueConfig;
  audit: AuditSink;
  /** Called once per transition; the CLI hands it to a detached process. */
  notify(event: NotifyEvent): void;
  /** Something the caller should know that does not change the result. */
  warn(message: string): void;
  now(): Date;
}

/** An entry of one repository. */
export interface EntryRef {
  gitDir: string;
  id: string;
}
