import { isZeroOid, listRefs, migrateObjects, updateRefs, withoutQuarantine, type RefUpdate as GitRefUpdate } from '../git/index.js';
import { pushOptionsFromEnv, type Finding, type Pusher, type RefUpdate } from '../policy/index.js';
import { QueueError } from './errors.js';
import { newQueueId } from './id.js';
import { pendingPrefix, pendingRef, queueRef } from './names.js';
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
 *  1. copy the pushed objects out of quarantine (unreferenced until 2);
 *  2. create the pending refs, one transaction (they keep the objects alive
 *     but are not an entry: `queue expire` sweeps ones without a record);
 *  3. write the record commit (an unreferenced object);
 *  4. create refs/pushgate/queue/<id>: this one ref publishes the entry.
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
    if ((await listRefs(input.gitDir, [pendingPrefix(id), queueRef(id)], outside)).size > 0) {
      if (attempt < ID_ATTEMPTS) continue;
      throw new QueueError('queue.failed', `no free queue id after ${ID_ATTEMPTS} attempts`);
    }
    const pending: GitRefUpdate[] = input.updates
      .filter((u) => !isZeroOid(u.newOid))
      .map((u) => ({ ref: pendingRef(id, u.ref), newOid: u.newOid, oldOid: '0'.repeat(u.newOid.length) }));
    const created = await updateRefs(input.gitDir, pending, outside);
    if (!created.ok) {
      if (created.reason === 'stale' && attempt < ID_ATTEMPTS) continue;
      throw new QueueError('queue.failed', `could not create the pending refs under ${pendingPrefix(id)}: ${created.message}`);
    }
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
    const published = await commitTransition(input.gitDir, null, record, `park ${id}: ${describeUpdates(record)}`, [], outside);
    if (published.ok) return record;
    await updateRefs(input.gitDir, pending.map((p) => ({ ref: p.ref, newOid: '0'.repeat(p.newOid.length), oldOid: p.newOid })), outside).catch(() => undefined);
    if (published.reason === 'record-moved' && attempt < ID_ATTEMPTS) continue;
    throw new QueueError('queue.failed', `could not create ${queueRef(id)}: ${published.message}`);
  }
}

function describeUpdates(record: QueueRecord): string {
  return record.updates.map((u) => `${u.ref} ${u.old.slice(0, 12)}..${u.new.slice(0, 12)}`).join(', ');
}
