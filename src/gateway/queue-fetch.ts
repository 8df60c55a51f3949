/**
 * The reviewers' (and the pusher's) fetch of a parked push. Its objects are
 * not in the repository (see src/queue/layout.ts): they are in the entry's
 * own store, which is served under `<repository>.git/.queue/<id>`, by
 * upload-pack only, to a caller who may read the repository and may see the
 * entry's objects (a reviewer of the entry, or its pusher), while the entry
 * is open. Every refusal reads exactly as for a repository that does not
 * exist, so nobody learns from it whether an entry exists.
 */
import type { AccessRule, QueueConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { effectiveState, entryStore, mayFetchEntry, normalizeQueueId, parseEntryPath, readRecord, storeExists } from '../queue/index.js';
import { isAllowed } from './access.js';
import { permissionFor, type GitService } from './command.js';
import { repoNameFromPath, resolveRepository } from './repo-path.js';

export interface EntryFetchPlan {
  kind: 'git';
  service: GitService;
  permission: 'read';
  requestedPath: string;
  /** The repository's canonical name, as the audit log names it. */
  repository: string;
  /** Absolute path of the entry's store. */
  path: string;
  args: string[];
  queueId: string;
}

export interface EntryFetchRefusal {
  kind: 'refused';
  code: string;
  message: string;
  reason: string;
  repository?: string;
}

export interface EntryFetchOptions {
  reposRoot: string;
  access: readonly AccessRule[];
  /** Without it (a front end that does not pass it) entries are never served. */
  queue: QueueConfig | undefined;
}

/** Whether `path` asks for an entry's store rather than a repository. */
export function isEntryPath(path: string): boolean {
  return parseEntryPath(path) !== undefined;
}

/**
 * Plans a fetch of an entry's store, or refuses it with `message` (the
 * caller's "no such repository" text) and a reason for the audit log only.
 */
export async function planEntryFetch(
  service: GitService, requestedPath: string, identity: Identity, options: EntryFetchOptions, message: string,
): Promise<EntryFetchPlan | EntryFetchRefusal> {
  const refuse = (code: string, reason: string, repository?: string): EntryFetchRefusal => ({ kind: 'refused', code, message, reason, ...(repository === undefined ? {} : { repository }) });
  const parsed = parseEntryPath(requestedPath);
  if (parsed === undefined) return refuse('repo.invalid-path', 'not a queue entry path');
  if (service !== 'git-upload-pack' || permissionFor(service) !== 'read') return refuse('queue.entry-read-only', `${service} of a queue entry: entries are only fetched`);
  const id = normalizeQueueId(parsed.id);
  if (id === undefined || id !== parsed.id) return refuse('repo.invalid-path', 'not a queue id');
  if (options.queue === undefined) return refuse('command.unavailable', 'queue entries are not served by this front end');
  const named = repoNameFromPath(parsed.repository, options.reposRoot);
  if (!named.ok) return refuse(named.code, named.reason);
  const caller = { principal: identity.principal, roles: identity.roles };
  if (!isAllowed(caller, named.name, 'read', options.access)) return refuse('access.denied', `${identity.principal} may not read ${named.name}`, named.name);
  const resolved = await resolveRepository(options.reposRoot, named.name);
  if (!resolved.ok) return refuse(resolved.code, resolved.reason, named.name);
  if (resolved.name !== named.name && !isAllowed(caller, resolved.name, 'read', options.access)) {
    return refuse('access.denied', `${identity.principal} may not read ${resolved.name} (reached as ${named.name})`, resolved.name);
  }
  let stored;
  try {
    stored = await readRecord(resolved.path, id);
  } catch (error) {
    return refuse('queue.failed', `queue entry ${id} of ${resolved.name} could not be read: ${(error as Error).message}`, resolved.name);
  }
  if (stored === null || stored.legacy === true) return refuse('queue.not-found', `no queue entry ${id} in ${resolved.name}`, resolved.name);
  if (!mayFetchEntry(caller, stored.record, options.queue)) {
    return refuse('queue.not-allowed', `${identity.principal} is neither a reviewer of queue entry ${id} nor its pusher`, resolved.name);
  }
  const state = effectiveState(stored.record);
  if (state !== 'pending' && state !== 'approved') return refuse('queue.decided', `queue entry ${id} is ${state}: its objects are no longer served`, resolved.name);
  const path = entryStore(resolved.path, id);
  if (!storeExists(path)) return refuse('queue.failed', `queue entry ${id} of ${resolved.name} has no store`, resolved.name);
  return {
    kind: 'git', service, permission: 'read', requestedPath, repository: resolved.name, path, queueId: id,
    args: ['upload-pack', '--strict', path],
  };
}
