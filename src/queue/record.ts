import type { Finding, Pusher } from '../policy/index.js';

export const QUEUE_STATES = ['pending', 'approved', 'rejected', 'stale', 'expired', 'applied'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** States nothing leaves: the entry is decided. */
export const FINAL_STATES: ReadonlySet<QueueState> = new Set(['rejected', 'stale', 'expired', 'applied']);

/** Who did something: the pusher or a reviewer, as the gateway (or the local shell) identified them. */
export type QueueIdentity = Pusher;

export interface QueuedUpdate {
  ref: string;
  old: string;
  new: string;
  /** The ref holding `new` while the entry waits; null for a deletion. */
  pending: string | null;
}

export interface DiffStats {
  commits: number;
  files: number;
  insertions: number;
  deletions: number;
}

export interface CommitSummary {
  oid: string;
  author: string;
  subject: string;
}

export interface Approval {
  by: QueueIdentity;
  at: string;
  comment?: string;
}

export type QueueEventType = 'park' | 'approve' | 'reject' | 'expire' | 'stale' | 'apply' | 'post-receive' | 'upstream-refused';

/** One transition, in the order they happened; the record ref's commits say the same in git. */
export interface QueueEvent {
  type: QueueEventType;
  at: string;
  by?: QueueIdentity;
  comment?: string;
  /** What went wrong or why: a reject reason, the ref that moved, a hook's exit status. */
  detail?: string;
}

export interface QueueRecord {
  version: 1;
  id: string;
  /** Path below reposRoot without `.git`. */
  repository: string;
  state: QueueState;
  createdAt: string;
  expiresAt: string;
  updates: QueuedUpdate[];
  pusher: QueueIdentity;
  /** `git push -o` values, in order. */
  pushOptions: string[];
  reason?: string;
  reviewRequested: boolean;
  /** As the hook reported them: masked excerpts and fingerprints, never values. */
  findings: Finding[];
  stats: DiffStats;
  /** The first commits the push introduced (at most COMMIT_SUMMARY_LIMIT; `stats.commits` has the count). */
  commits: CommitSummary[];
  approvals: Approval[];
  events: QueueEvent[];
  /** After apply: whether the repository's post-receive ran (at most once). */
  postReceive?: { state: 'pending' | 'ran'; exitCode?: number };
  /**
   * Set while an `approved` entry is being applied: who applies it, from
   * which process. Another approver waits while that process lives, and
   * takes over when it does not (it was killed half-way).
   */
  applying?: ApplyClaim;
}

export interface ApplyClaim {
  by: string;
  host: string;
  pid: number;
  /** Tells claims of one process apart (the gateway may apply several entries at once). */
  token: string;
  at: string;
}

export const COMMIT_SUMMARY_LIMIT = 100;

/** The state as of `now`: a pending entry past its expiry is expired even before `queue expire` records it. */
export function effectiveState(record: QueueRecord, now: Date = new Date()): QueueState {
  if (record.state === 'pending' && Date.parse(record.expiresAt) <= now.getTime()) return 'expired';
  return record.state;
}

export function isQueueState(value: string): value is QueueState {
  return (QUEUE_STATES as readonly string[]).includes(value);
}

/** Parses record.json, checking the fields everything else relies on. */
export function parseRecord(text: string): QueueRecord {
  const value = JSON.parse(text) as Partial<QueueRecord>;
  if (value.version !== 1 || typeof value.id !== 'string' || typeof value.state !== 'string' || !isQueueState(value.state)
    || !Array.isArray(value.updates) || typeof value.pusher?.principal !== 'string' || !Array.isArray(value.approvals) || !Array.isArray(value.events)) {
    throw new Error('not a pushgate queue record (version 1)');
  }
  return value as QueueRecord;
}

/** The identity fields worth keeping: no undefined values, roles copied. */
export function identityOf(who: Pusher): QueueIdentity {
  const out: Record<string, unknown> = { principal: who.principal, roles: [...who.roles] };
  for (const key of ['keyId', 'certSerial', 'keyFingerprint', 'sessionId', 'clientAddress', 'sponsor'] as const) {
    if (who[key] !== undefined) out[key] = who[key];
  }
  return out as unknown as QueueIdentity;
}
