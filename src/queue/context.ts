import type { AuditIdentity, AuditSink } from '../audit/index.js';
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
  /**
   * Upstream mode: how an approval reaches the upstream. Without it, an
   * approval in a repository mirrored from an upstream is refused (it would
   * move the mirror alone).
   */
  upstream?: UpstreamForwarder;
}

/** The upstream a repository is mirrored from, as an approval uses it. */
export interface UpstreamLink {
  name: string;
  /** Brings the mirror up to date with the upstream; throws when the upstream cannot be read. */
  refresh(): Promise<void>;
  /** Sends the updates from `store` with compare-and-swap on every old value; records the attempt. */
  forward(store: string, updates: ReadonlyArray<{ ref: string; oldOid: string; newOid: string }>, who: { queueId: string; reviewer?: AuditIdentity }): Promise<{ outcome: 'accepted' | 'rejected' | 'stale' | 'unavailable'; message: string; staleRef?: string }>;
}

export interface UpstreamForwarder {
  /** undefined when the repository has no upstream; throws when its upstream is ambiguous. */
  forRepository(repository: string, gitDir: string): UpstreamLink | undefined;
}

/** An entry of one repository. */
export interface EntryRef {
  gitDir: string;
  id: string;
}
