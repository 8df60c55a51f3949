/**
 * Who sees which entry. An entry holds another identity's work (and,
 * parked, possibly its secret): its record is shown to the reviewers who
 * may decide it, its pusher and its pusher's sponsor; its objects are
 * served to the reviewers and the pusher. To everyone else it does not
 * exist: every command answers exactly as for an id nobody used, so no
 * answer tells them apart. On the server's own shell (no identity from a
 * gateway) the files are readable anyway and nothing is hidden.
 */
import type { QueueConfig } from '../config/types.js';
import type { Pusher } from '../policy/index.js';
import { QueueError } from './errors.js';
import type { QueueRecord } from './record.js';
import { entryCandidates, entryNotFound, type Repository } from './repos.js';
import { readRecord, type StoredRecord } from './store.js';
import { requirementsFor } from './rules.js';

/** Who asks; null: an administrator on the server's shell. */
export type Viewer = Pick<Pusher, 'principal' | 'roles'> | null;

/** Whether `viewer` holds a reviewing role for every ref of the entry (what approving it takes). */
export function isEntryReviewer(viewer: NonNullable<Viewer>, record: Pick<QueueRecord, 'repository' | 'updates'>, queue: QueueConfig): boolean {
  return requirementsFor(record, queue).reviewerRoles.every((roles) => roles.some((role) => viewer.roles.includes(role)));
}

/** Whether `viewer` may see the entry's record: its reviewers, its pusher, its pusher's sponsor. */
export function maySeeEntry(viewer: Viewer, record: QueueRecord, queue: QueueConfig): boolean {
  if (viewer === null) return true;
  if (viewer.principal === record.pusher.principal) return true;
  if (record.pusher.sponsor !== undefined && viewer.principal === record.pusher.sponsor) return true;
  return isEntryReviewer(viewer, record, queue);
}

/** Whether `viewer` may fetch the entry's parked objects: its reviewers, and its pusher. */
export function mayFetchEntry(viewer: Viewer, record: QueueRecord, queue: QueueConfig): boolean {
  if (viewer === null) return true;
  if (viewer.principal === record.pusher.principal) return true;
  return isEntryReviewer(viewer, record, queue);
}

/** Whether `viewer` may run `queue expire`: a reviewer of some kind, or an administrator. */
export function mayExpire(viewer: Viewer, queue: QueueConfig): boolean {
  if (viewer === null) return true;
  const roles = new Set([...queue.reviewerRoles, ...queue.rules.flatMap((rule) => rule.reviewerRoles ?? [])]);
  return viewer.roles.some((role) => roles.has(role));
}

export interface VisibleEntry {
  repository: Repository;
  stored: StoredRecord;
}

/**
 * Entry `id` as `viewer` may see it (in a repository it may read), or the
 * same not-found error an unused id gets. Two repositories holding the id
 * are ambiguous only when the viewer sees both.
 */
export async function findVisibleEntry(
  reposRoot: string, queue: QueueConfig, viewer: Viewer, id: string, repository: string | undefined, readable: (repository: string) => boolean,
): Promise<VisibleEntry> {
  const found: VisibleEntry[] = [];
  for (const candidate of entryCandidates(reposRoot, id, repository, readable)) {
    const stored = await readRecord(candidate.gitDir, id);
    if (stored !== null && maySeeEntry(viewer, stored.record, queue)) found.push({ repository: candidate, stored });
  }
  if (found.length === 0) throw entryNotFound(id, repository);
  if (found.length > 1) throw new QueueError('queue.ambiguous', `queue entry ${id} exists in ${found.map((f) => f.repository.name).join(', ')}; name one with --repo`);
  return found[0]!;
}
