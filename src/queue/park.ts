import { isZeroOid, migrateObjects, withoutQuarantine, type RefUpdate as GitRefUpdate } from '../git/index.js';
import { pushOptionsFromEnv, type Finding, type Pusher, type RefUpdate } from '../policy/index.js';
import { QueueError } from './errors.js';
import { newQueueId } from './id.js';
import { pendingRef, queueRef } from './names.js';
import { identityOf, type QueueRecord } from './record.js';
import { commitSummaries, diffStats } from './stats.js';
import { commitTransition } from './store.js';

export interface ParkInput {
  gitDir: string;
  /** The hook's environment: the pushed objects are still in git's quarantine. */
  env: NodeJS.ProcessEnv;
  repository: string;
  updates: readonly RefUpdate[];
  pusher: Pusher;
  /** Already masked. */
  findings: readonly Finding[];
  /** The commits the push introduces, parents first. */
  commits: readonly string[];
  /** ms the entry waits before it expires. */
  expiry: number;
  reason?: string;
  reviewRequested?: boolean;
  now?: Date;
}

/** Tries with another id when a fresh one is taken: with ~40 bits of id, this means something else is wrong. */
const ID_ATTEMPTS = 5;

/**
 * Keeps a push that must wait for review, from inside the pre-receive hook.
 * The steps are ordered so that whatever point a crash stops at leaves
 * either no entry or a complete one:
 *
 *  1. copy the pushed objects out of quarantine (an unreferenced pack);
 *  2. write the record commit (an unreferenced object);
 *  3. one ref transaction creates the pending refs and, last,
 *     refs/pushgate/queue/<id>, which publishes the entry. Killing this
 *     process cannot split it: git either got "commit" or aborts. Should git
 *     itself die between renaming the lock files, the record ref, renamed
 *     last, is missing, and `queue expire` sweeps the pending refs.
 */
export async function parkPush(input: ParkInput): Promise<QueueRecord> {
  const now = input.now ?? new Date();
  const outside = withoutQuarantine(input.env);
  const tips = input.updates.map((u) => u.newOid).filter((oid) => !isZeroOid(oid));
  await migrateObjects(input.gitDir, tips, true, input.env);
  const stats = await diffStats(input.gitDir, input.updates, input.commits.length, input.env);
  const commits = await commitSummaries(input.gitDir, input.commits, input.env);
  const options = [...pushOptionsFromEnv(input.env).raw];

  for (let attempt = 1; ; attempt++) {
    const id = newQueueId();
    const pending: GitRefUpdate[] = input.updates
      .filter((u) => !isZeroOid(u.newOid))
      .map((u) => ({ ref: pendingRef(id, u.ref), newOid: u.newOid, oldOid: '0'.repeat(u.newOid.length) }));
    const record: QueueRecord = {
      version: 1,
      id,
      repository: input.repository,
      state: 'pending',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + input.expiry).toISOString(),
      updates: input.updates.map((u) => ({ ref: u.ref, old: u.oldOid, new: u.newOid, pending: isZeroOid(u.newOid) ? null : pendingRef(id, u.ref) })),
      pusher: identityOf(input.pusher),
      pushOptions: options,
      ...(input.reason === undefined ? {} : { reason: input.reason }),
      reviewRequested: input.reviewRequested === true,
      findings: input.findings.map(({ inlineAllow: _internal, ...finding }) => finding),
      stats,
      commits,
      approvals: [],
      events: [{ type: 'park', at: now.toISOString(), by: identityOf(input.pusher), ...(input.reason === undefined ? {} : { comment: input.reason }) }],
    };
    const published = await commitTransition(input.gitDir, null, record, `park ${id}: ${describeUpdates(record)}`, pending, outside);
    if (published.ok) return record;
    // Only a taken id makes a fresh one worth trying.
    if ((published.reason === 'record-moved' || published.reason === 'stale') && attempt < ID_ATTEMPTS) continue;
    throw new QueueError('queue.failed', `could not create ${queueRef(id)} and its pending refs: ${published.message}`);
  }
}

function describeUpdates(record: QueueRecord): string {
  return record.updates.map((u) => `${u.ref} ${u.old.slice(0, 12)}..${u.new.slice(0, 12)}`).join(', ');
}
