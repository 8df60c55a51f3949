import { PENDING_PREFIX } from './names.js';
import type { QueueRecord } from './record.js';

/**
 * Configuration for the `git upload-pack` that serves a reviewer: the
 * pending refs become visible (the record refs stay hidden), so reviewers
 * can fetch them by name. For the SSH gateway: `git -c <each> upload-pack …`.
 */
export function reviewerUploadPackConfig(): string[] {
  return [`uploadpack.hideRefs=!${PENDING_PREFIX.replace(/\/$/, '')}`];
}

export interface FetchHint {
  ref: string;
  pending: string;
  oid: string;
  /** Works where the pending refs are visible to the reviewer (the gateway serving reviewers). */
  byName: string;
  /** Works over protocol v2 (git's default since 2.26), which lets a client ask for any object it names. */
  byOid: string;
}

/** What a reviewer runs to look at the parked commits with their own tools. */
export function fetchHints(record: QueueRecord, remote = 'origin'): FetchHint[] {
  return record.updates.filter((u) => u.pending !== null).map((u) => ({
    ref: u.ref,
    pending: u.pending!,
    oid: u.new,
    byName: `git fetch ${remote} ${u.pending}`,
    byOid: `git fetch ${remote} ${u.new}`,
  }));
}

/** On the server itself (a path or file:// remote), the local upload-pack can be told to show the pending refs. */
export function localFetchCommand(record: QueueRecord, remote = 'origin'): string {
  const config = reviewerUploadPackConfig().map((c) => `-c ${c}`).join(' ');
  return `git fetch --upload-pack='git ${config} upload-pack' ${remote} '${PENDING_PREFIX}${record.id}/*:refs/remotes/pushgate/${record.id}/*'`;
}
