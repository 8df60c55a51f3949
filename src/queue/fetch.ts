import { entryStore } from './layout.js';
import { PENDING_PREFIX } from './names.js';
import type { QueueRecord } from './record.js';

/**
 * How reviewers (and the pusher) fetch a parked push: from the entry's own
 * store, which the gateway serves under the repository's name followed by
 * `/.queue/<id>` to those allowed to see its objects, never from the
 * repository itself (which does not hold them). A name with a component
 * starting with "." is refused for every other purpose, so no repository
 * can be called that.
 */
export const ENTRY_PATH_MARKER = '.queue';

/** `team/app` + `k3m9qx2a` → `team/app.git/.queue/k3m9qx2a`. */
export function entryRepositoryPath(repository: string, id: string): string {
  return `${repository}.git/${ENTRY_PATH_MARKER}/${id}`;
}

const ENTRY_PATH = /^(.*?)\/+\.queue\/([^/]+?)(?:\.git)?\/*$/;

/** Splits a requested path of the entry form into the repository part and the id; undefined for any other path. */
export function parseEntryPath(requested: string): { repository: string; id: string } | undefined {
  const match = ENTRY_PATH.exec(requested);
  if (!match || match[1] === '' || match[1]!.split('/').includes(ENTRY_PATH_MARKER)) return undefined;
  return { repository: match[1]!, id: match[2]! };
}

export interface FetchHint {
  ref: string;
  pending: string;
  oid: string;
}

/** The parked tips, by the ref they would update. */
export function fetchHints(record: QueueRecord): FetchHint[] {
  return record.updates.filter((u) => u.pending !== null).map((u) => ({ ref: u.ref, pending: u.pending!, oid: u.new }));
}

/** The refspec that brings an entry's pending refs into refs/remotes/pushgate/<id>/. */
export function entryRefspec(id: string): string {
  return `${PENDING_PREFIX}${id}/*:refs/remotes/pushgate/${id}/*`;
}

/** What a reviewer runs in a clone whose `origin` is the gateway: the entry's store is the origin URL + `/.queue/<id>`. */
export function remoteFetchCommand(record: Pick<QueueRecord, 'id'>, remote = 'origin'): string {
  return `git fetch "$(git remote get-url ${remote})/${ENTRY_PATH_MARKER}/${record.id}" '${entryRefspec(record.id)}'`;
}

/** On the server itself: the entry's store as a path (an administrator's view). */
export function localFetchCommand(gitDir: string, record: Pick<QueueRecord, 'id'>): string {
  return `git fetch '${entryStore(gitDir, record.id)}' '${entryRefspec(record.id)}'`;
}
