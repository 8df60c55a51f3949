import { copyObjects, isZeroOid, updateRefs, withoutQuarantine, type RefUpdate as GitRefUpdate } from '../git/index.js';
import { pushOptionsFromEnv, type Finding, type Pusher, type RefUpdate } from '../policy/index.js';
import { maskText } from '../text/index.js';
import { QueueError } from './errors.js';
import { newQueueId } from './id.js';
import { createEntryStore, objectFormatOf, removeEntryStore } from './layout.js';
import { pendingRef, queueRef } from './names.js';
import { identityOf, type CommitSummary, type QueueRecord } from './record.js';
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
 * Keeps a push that must wait for review, from inside the pre-receive hook,
 * outside the repository's object store (see layout.ts). The steps are
 * ordered so that whatever point a crash stops at leaves either no entry or
 * a complete one:
 *
 *  1. create the entry's own store under a fresh id (renamed into place whole);
 *  2. copy the pushed objects out of quarantine into it, and create its
 *     pending refs there;
 *  3. write the record commit and create refs/pushgate/queue/<id> in the
 *     records' repository, which publishes the entry.
 *
 * A crash before 3 leaves a store without a record: nothing serves it (the
 * gateway serves an entry's store only for an open record) and `queue
 * expire` deletes it after the grace period. The diff stats and commit
 * summaries are read while the objects are copied.
 *
 * Everything a person wrote (push options, the reason, commit subjects and
 * author names) is masked before it is stored; findings arrive masked.
 */
export async function parkPush(input: ParkInput): Promise<QueueRecord> {
  const now = input.now ?? new Date();
  const outside = withoutQuarantine(input.env);
  const tips = input.updates.map((u) => u.newOid).filter((oid) => !isZeroOid(oid));
  const format = objectFormatOf(input.updates[0]?.newOid ?? '');
  const reading = Promise.all([
    diffStats(input.gitDir, input.updates, input.commits.length, input.env),
    commitSummaries(input.gitDir, input.commits, input.env),
  ]);
  reading.catch(() => undefined);
  const options = pushOptionsFromEnv(input.env).raw.map((o) => maskText(o));
  const reason = input.reason === undefined ? undefined : maskText(input.reason);

  for (let attempt = 1; ; attempt++) {
    const id = newQueueId();
    const store = await createEntryStore(input.gitDir, id, format);
    if (store === null) {
      if (attempt < ID_ATTEMPTS) continue;
      throw new QueueError('queue.failed', 'could not find a free queue id');
    }
    let published = false;
    try {
      const pending: GitRefUpdate[] = input.updates
        .filter((u) => !isZeroOid(u.newOid))
        .map((u) => ({ ref: pendingRef(id, u.ref), newOid: u.newOid, oldOid: '0'.repeat(u.newOid.length) }));
      await copyObjects({ source: input.gitDir, sourceEnv: input.env, target: store, tips, excludeRefsOf: { gitDir: input.gitDir, env: input.env } });
      const refs = await updateRefs(store, pending, outside);
      if (!refs.ok) throw new QueueError('queue.failed', `could not create the pending refs of ${id}: ${refs.message}`);
      const [stats, commits] = await reading;
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
        ...(reason === undefined ? {} : { reason }),
        reviewRequested: input.reviewRequested === true,
        findings: input.findings.map(({ inlineAllow: _internal, ...finding }) => finding),
        stats,
        commits: commits.map(maskSummary),
        approvals: [],
        events: [{ type: 'park', at: now.toISOString(), by: identityOf(input.pusher), ...(reason === undefined ? {} : { comment: reason }) }],
      };
      const result = await commitTransition(input.gitDir, null, record, `park ${id}: ${describeUpdates(record)}`, outside);
      if (result.ok) {
        published = true;
        return record;
      }
      // Only a taken id makes a fresh one worth trying.
      if ((result.reason === 'record-moved' || result.reason === 'stale') && attempt < ID_ATTEMPTS) continue;
      throw new QueueError('queue.failed', `could not create ${queueRef(id)}: ${result.message}`);
    } finally {
      if (!published) await removeEntryStore(input.gitDir, id).catch(() => undefined);
    }
  }
}

function maskSummary(c: CommitSummary): CommitSummary {
  return { oid: c.oid, author: maskText(c.author), subject: maskText(c.subject) };
}

function describeUpdates(record: QueueRecord): string {
  return maskText(record.updates.map((u) => `${u.ref} ${u.old.slice(0, 12)}..${u.new.slice(0, 12)}`).join(', '));
}
