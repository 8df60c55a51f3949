import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { copyObjects, isZeroOid, readRefs, updateRefs, type RefUpdate } from '../git/index.js';
import type { Pusher } from '../policy/index.js';
import { maskText } from '../text/index.js';
import { isMirror } from '../upstream/marker.js';
import { auditIdentity, queueAuditEvent, recordAudit } from './audit.js';
import type { EntryRef, QueueContext, UpstreamLink } from './context.js';
import { isQueueError, QueueError } from './errors.js';
import { entryStore, removeEntryStore, storeExists } from './layout.js';
import { notifyEvent } from './notify.js';
import { runPostReceive } from './post-receive.js';
import { effectiveState, FINAL_STATES, identityOf, type ApplyClaim, type QueueEvent, type QueueRecord } from './record.js';
import { checkApprover, checkReviewer, requirementsFor, samePerson } from './rules.js';
import { commitTransition, readRecord, type StoredRecord, type TransitionResult } from './store.js';

/** Rounds of read–decide–compare-and-swap before giving up on a busy entry. */
const ATTEMPTS = 25;

/** How long a claim to apply an entry holds when its process cannot be checked (another host). */
export const CLAIM_LEASE_MS = 15 * 60 * 1000;
/** How long an approver waits for another process to finish applying the same entry. */
const CLAIM_WAIT_MS = 120 * 1000;

async function mustRead(entry: EntryRef): Promise<StoredRecord> {
  const stored = await readRecord(entry.gitDir, entry.id);
  if (stored === null) throw new QueueError('queue.not-found', `no queue entry ${entry.id}`);
  return stored;
}

/** Someone else changed the entry first, or holds its lock: read again and decide again. */
function contended(result: TransitionResult): boolean {
  return !result.ok && (result.reason === 'record-moved' || result.reason === 'locked');
}

async function backoff(attempt: number): Promise<void> {
  await sleep(5 + randomInt(10 * attempt));
}

function refUpdates(record: QueueRecord): RefUpdate[] {
  return record.updates.map((u) => ({ ref: u.ref, newOid: u.new, oldOid: u.old }));
}

function refuseDecided(record: QueueRecord, state: QueueRecord['state']): never {
  if (state === 'expired') throw new QueueError('queue.expired', `queue entry ${record.id} expired at ${record.expiresAt}; it can no longer be approved or rejected. The pusher must push again.`);
  throw new QueueError('queue.decided', `queue entry ${record.id} is already ${state}`);
}

/** A refused approval or rejection is not a transition, but who tried is worth keeping. */
async function audited<T>(ctx: QueueContext, type: 'queue.approve' | 'queue.reject', record: QueueRecord, reviewer: Pusher, check: () => T): Promise<T> {
  try {
    return check();
  } catch (error) {
    if (isQueueError(error)) {
      await recordAudit(ctx.audit, queueAuditEvent(type, record, { reviewer: identityOf(reviewer), result: 'refused', code: error.code, reason: error.message }), ctx.warn);
    }
    throw error;
  }
}

/** Deletes the entry's store: its objects were copied into the repository (applied) or must go (rejected, expired, stale). */
async function purge(entry: EntryRef, ctx: QueueContext): Promise<void> {
  try {
    await removeEntryStore(entry.gitDir, entry.id);
  } catch (error) {
    ctx.warn(`the parked objects of ${entry.id} could not be deleted now (${(error as Error).message}); \`pushgate queue expire\` deletes them`);
  }
}

/** Claims this process holds right now, by token. */
const heldClaims = new Set<string>();

function claimOf(reviewer: Pusher, now: Date): ApplyClaim {
  return { by: reviewer.principal, host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex'), at: now.toISOString() };
}

/** Whether another process is applying the entry right now. */
export function liveClaim(record: QueueRecord, now: Date): boolean {
  const claim = record.applying;
  if (record.state !== 'approved' || claim === undefined) return false;
  if (now.getTime() - Date.parse(claim.at) > CLAIM_LEASE_MS) return false;
  if (claim.host !== hostname()) return true;
  if (claim.pid === process.pid) return heldClaims.has(claim.token);
  try {
    process.kill(claim.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether every ref of the entry already has the value the entry would give it. */
async function refsApplied(gitDir: string, record: QueueRecord): Promise<boolean> {
  const current = await readRefs(gitDir, record.updates.map((u) => u.ref)).catch(() => null);
  if (current === null) return false;
  return record.updates.every((u) => (isZeroOid(u.new) ? !current.has(u.ref) : current.get(u.ref) === u.new));
}

export interface ApproveResult {
  record: QueueRecord;
  /** The push is now in its refs. */
  applied: boolean;
  approvals: number;
  required: number;
  /** Exit status of the repository's post-receive; null when it has none; undefined when not applied. */
  postReceive?: number | null;
}

/**
 * Records `reviewer`'s approval; the approval that completes the count
 * applies the push. Applying takes three steps, since the record is kept
 * outside the repository:
 *
 *  1. claim: the record moves to `approved`, naming this process, by
 *     compare-and-swap (of two approvers, one wins; the other waits for it);
 *  2. copy the parked objects into the repository and move every ref of the
 *     push in one git transaction, compare-and-swap on the old values;
 *  3. the record moves to `applied` and the entry's store is deleted.
 *
 * Killed between 1 and 3, the entry stays `approved` with a claim whose
 * process is gone: the next approve takes it over, finds the refs either
 * untouched (applies them) or already moved to the pushed values (records
 * `applied`). A ref that moved elsewhere since the push makes the entry stale.
 */
export async function approveEntry(entry: EntryRef, reviewer: Pusher, comment: string | undefined, ctx: QueueContext): Promise<ApproveResult> {
  const note = comment ? maskText(comment) : undefined;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await mustRead(entry);
    const record = stored.record;
    const now = ctx.now();
    const at = now.toISOString();
    const state = effectiveState(record, now);
    if (state === 'expired' && record.state === 'pending') await expireEntry(entry, undefined, ctx).catch(() => undefined);
    if (FINAL_STATES.has(state)) refuseDecided(record, state);
    const requirements = requirementsFor(record, ctx.queue);
    await audited(ctx, 'queue.approve', record, reviewer, () => {
      checkReviewer(reviewer, requirements, 'approve');
      // `approved` but not applied (the refs could not be updated): any reviewer but the pusher may retry.
      if (state === 'pending' || samePerson(reviewer, record.pusher)) checkApprover(reviewer, record);
    });
    if (liveClaim(record, now)) {
      await waitForClaim(entry, stored, ctx);
      continue;
    }
    const by = identityOf(reviewer);
    let approvals = record.approvals;
    let events = record.events;
    if (state === 'pending') {
      const approval = { by, at, ...(note ? { comment: note } : {}) };
      approvals = [...approvals, approval];
      events = [...events, { type: 'approve', ...approval }];
    }
    const counted = `${approvals.length}/${requirements.approvals}`;
    const added = approvals.length > record.approvals.length;

    if (approvals.length < requirements.approvals) {
      const next: QueueRecord = { ...record, approvals, events };
      const result = await commitTransition(entry.gitDir, stored, next, `approve ${record.id} by ${reviewer.principal} (${counted})`);
      if (contended(result)) {
        await backoff(attempt);
        continue;
      }
      if (!result.ok) throw new QueueError('queue.failed', `could not record the approval of ${record.id}: ${result.message}`);
      await recordAudit(ctx.audit, queueAuditEvent('queue.approve', next, { reviewer: by, result: `approved ${counted}`, ...(note ? { reason: note } : {}) }), ctx.warn);
      ctx.notify(notifyEvent('approve', next));
      return { record: next, applied: false, approvals: approvals.length, required: requirements.approvals };
    }

    const claimed: QueueRecord = { ...record, approvals, events, state: 'approved', applying: claimOf(reviewer, now) };
    // Held before it is written: no approver of this process may take it for a dead one's.
    const token = claimed.applying!.token;
    heldClaims.add(token);
    try {
      const claim = await commitTransition(entry.gitDir, stored, claimed, `approve ${record.id} by ${reviewer.principal} (${counted}); applying`);
      if (contended(claim)) {
        await backoff(attempt);
        continue;
      }
      if (!claim.ok) throw new QueueError('queue.failed', `could not record the approval of ${record.id}: ${claim.message}`);
      if (added) await recordAudit(ctx.audit, queueAuditEvent('queue.approve', claimed, { reviewer: by, result: `approved ${counted}`, ...(note ? { reason: note } : {}) }), ctx.warn);
      return await applyClaimed(entry, { oid: claim.oid, record: claimed }, stored, reviewer, requirements.approvals, ctx);
    } finally {
      heldClaims.delete(token);
    }
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}

/** Waits while another live process applies the entry; then the caller reads it again. */
async function waitForClaim(entry: EntryRef, seen: StoredRecord, ctx: QueueContext): Promise<void> {
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (let round = 1; Date.now() < deadline; round++) {
    await sleep(Math.min(20 * round, 250));
    const now = await readRecord(entry.gitDir, entry.id);
    if (now === null || now.oid !== seen.oid || !liveClaim(now.record, ctx.now())) return;
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} is being applied by ${seen.record.applying?.by ?? 'another reviewer'}; run the command again in a moment`);
}

/** Steps 2 and 3 of an approval: the objects, the refs, the record. */
async function applyClaimed(entry: EntryRef, claimed: StoredRecord, before: StoredRecord, reviewer: Pusher, required: number, ctx: QueueContext): Promise<ApproveResult> {
  const record = claimed.record;
  const by = identityOf(reviewer);
  const store = entryStore(entry.gitDir, entry.id);
  const tips = record.updates.map((u) => u.new).filter((oid) => !isZeroOid(oid));
  let failure: string | undefined;
  let stale: string | undefined;
  const link = upstreamLink(entry, record, ctx);
  if (link !== null && !(await refsApplied(entry.gitDir, record))) {
    // Staleness is judged against the upstream as it is now.
    try {
      await link.refresh();
    } catch (error) {
      return holdForUpstream(entry, claimed, before, reviewer, ctx, `upstream ${link.name} could not be read: ${(error as Error).message}`);
    }
  }
  let applied = await refsApplied(entry.gitDir, record);
  // A ref that already moved elsewhere makes the entry stale before any object is copied
  // into the repository (the transaction below still decides; this keeps a stale push's
  // objects out of the repository's store in all but a narrow race).
  if (!applied) {
    const current = await readRefs(entry.gitDir, record.updates.map((u) => u.ref)).catch(() => null);
    const moved = current === null ? undefined : record.updates.find((u) => (current.get(u.ref) ?? u.old.replace(/./g, '0')) !== u.old);
    if (moved !== undefined) stale = moved.ref;
  }
  let forwarded = false;
  if (!applied && stale === undefined && link !== null) {
    const sent = await link.forward(store, refUpdates(record).map((u) => ({ ref: u.ref, oldOid: u.oldOid!, newOid: u.newOid })), { queueId: record.id, reviewer: auditIdentity(by) });
    if (sent.outcome === 'stale') stale = sent.staleRef ?? 'a ref';
    else if (sent.outcome !== 'accepted') return holdForUpstream(entry, claimed, before, reviewer, ctx, sent.message);
    else forwarded = true;
  }
  if (!applied && stale === undefined) {
    try {
      if (tips.length > 0) {
        if (!storeExists(store)) throw new Error('its parked objects are gone');
        await copyObjects({ source: store, target: entry.gitDir, tips, excludeRefsOf: { gitDir: entry.gitDir } });
      }
      for (let attempt = 1; ; attempt++) {
        const moved = await updateRefs(entry.gitDir, refUpdates(record));
        if (moved.ok) {
          applied = true;
          break;
        }
        if (moved.reason === 'stale') {
          // Someone who took over a dead claim may have applied it first; or, the
          // upstream having accepted it, a refresh brought it into the mirror.
          if (forwarded && link !== null) await link.refresh().catch(() => undefined);
          if (forwarded || (await refsApplied(entry.gitDir, record))) applied = true;
          else stale = moved.ref ?? 'a ref';
          break;
        }
        if (moved.reason === 'locked' && attempt < ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        failure = moved.message;
        if (moved.reason === 'locked') {
          // Still locked: give the entry back as it was, approval and all, for a later try.
          const released = await commitTransition(entry.gitDir, claimed, { ...before.record }, `release ${record.id}: the refs are locked`).catch(() => null);
          if (released?.ok) throw new QueueError('queue.busy', `the refs of queue entry ${record.id} are locked by another update (${moved.message}); try again`);
        }
        break;
      }
    } catch (error) {
      if (isQueueError(error)) throw error;
      failure = (error as Error).message.split('\n')[0];
    }
  }
  const now = ctx.now();
  const at = now.toISOString();
  const { applying: _claim, ...rest } = record;
  if (applied) {
    const applyEvent: QueueEvent = { type: 'apply', at, by };
    const done: QueueRecord = { ...rest, state: 'applied', events: [...rest.events, applyEvent], postReceive: { state: 'pending' } };
    const result = await finalTransition(entry, claimed, done, `apply ${record.id}: approved by ${record.approvals.map((a) => a.by.principal).join(', ')}`);
    await purge(entry, ctx);
    if (result === null) refuseDecided(record, 'applied');
    await recordAudit(ctx.audit, queueAuditEvent('queue.apply', done, { reviewer: by, result: 'applied' }), ctx.warn);
    ctx.notify(notifyEvent('approve', done, applyEvent));
    const postReceive = await afterApply(entry, done, ctx);
    return { record: postReceive.record, applied: true, approvals: record.approvals.length, required, postReceive: postReceive.exitCode };
  }
  if (stale !== undefined) {
    const detail = maskText(`${stale} moved since the push; nothing was applied. Fetch, rebase your work onto the current ${stale === 'a ref' ? 'branch' : stale} and push again.`);
    const staleEvent: QueueEvent = { type: 'stale', at, by, detail };
    const marked: QueueRecord = { ...rest, state: 'stale', events: [...rest.events, staleEvent] };
    const result = await finalTransition(entry, claimed, marked, `stale ${record.id}: ${maskText(stale)} moved`);
    if (result === null) throw new QueueError('queue.failed', `${record.id}: ${detail} (and the entry could not be marked stale)`);
    await purge(entry, ctx);
    await recordAudit(ctx.audit, queueAuditEvent('queue.stale', marked, { reviewer: by, result: 'stale', reason: detail }), ctx.warn);
    ctx.notify(notifyEvent('stale', marked, staleEvent));
    throw new QueueError('queue.stale', `queue entry ${record.id} is stale: ${detail}`);
  }
  // Approved, not applied: the claim goes, the approvals stay; any reviewer but the pusher may retry.
  await commitTransition(entry.gitDir, claimed, rest, `approve ${record.id}: not applied yet`).catch(() => undefined);
  throw new QueueError('queue.failed', `queue entry ${record.id} is approved but its refs could not be updated (${failure ?? 'unknown error'}); run \`pushgate queue approve ${record.id}\` again to retry`);
}

/**
 * The upstream link of the entry's repository; null without an upstream. A
 * repository created as a mirror but approved without an upstream link is
 * refused: applying there would move the mirror alone.
 */
function upstreamLink(entry: EntryRef, record: QueueRecord, ctx: QueueContext): UpstreamLink | null {
  const link = ctx.upstream?.forRepository(record.repository, entry.gitDir);
  if (link !== undefined) return link;
  if (isMirror(entry.gitDir)) {
    throw new QueueError('queue.failed', `${record.repository} mirrors an upstream that this configuration does not name; approve it where the upstream is configured (or fix upstreams in the configuration)`);
  }
  return null;
}

/**
 * The upstream refused the push or could not be reached: nothing moved. The
 * entry goes back to pending, as it was before this approval, with the
 * upstream's answer in its history; the reviewer sees it, and can approve
 * again once the cause is fixed.
 */
async function holdForUpstream(entry: EntryRef, claimed: StoredRecord, before: StoredRecord, reviewer: Pusher, ctx: QueueContext, message: string): Promise<never> {
  const detail = maskText(message).slice(0, 4000);
  const event: QueueEvent = { type: 'upstream-refused', at: ctx.now().toISOString(), by: identityOf(reviewer), detail };
  const held: QueueRecord = { ...before.record, events: [...before.record.events, event] };
  const result = await finalTransition(entry, claimed, held, `upstream refused ${before.record.id}`).catch(() => null);
  await recordAudit(ctx.audit, queueAuditEvent('queue.approve', held, { reviewer: identityOf(reviewer), result: 'upstream-refused', code: 'queue.upstream', reason: detail }), ctx.warn);
  if (result === null) throw new QueueError('queue.failed', `queue entry ${before.record.id} was not applied (${detail}), and could not be returned to pending`);
  throw new QueueError('queue.upstream', `queue entry ${before.record.id} was not applied and stays pending: ${detail}`);
}

/** Moves a claimed record to its final state; null when someone else decided it meanwhile. */
async function finalTransition(entry: EntryRef, claimed: StoredRecord, next: QueueRecord, message: string): Promise<string | null> {
  let from = claimed;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const result = await commitTransition(entry.gitDir, from, next, message);
    if (result.ok) return result.oid;
    if (!contended(result)) return null;
    const now = await readRecord(entry.gitDir, entry.id);
    if (now === null || now.record.state !== 'approved') return null;
    from = now;
    await backoff(attempt);
  }
  return null;
}

/** Runs post-receive once and records that it ran; a failure to record is only a warning. */
async function afterApply(entry: EntryRef, applied: QueueRecord, ctx: QueueContext): Promise<{ record: QueueRecord; exitCode: number | null }> {
  const exitCode = await runPostReceive(entry.gitDir, applied);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await readRecord(entry.gitDir, entry.id).catch(() => null);
    if (stored === null || stored.record.postReceive?.state !== 'pending') break;
    const event: QueueEvent = { type: 'post-receive', at: ctx.now().toISOString(), detail: exitCode === null ? 'no post-receive hook' : `exit status ${exitCode}` };
    const next: QueueRecord = { ...stored.record, postReceive: { state: 'ran', ...(exitCode === null ? {} : { exitCode }) }, events: [...stored.record.events, event] };
    const result = await commitTransition(entry.gitDir, stored, next, `post-receive ${entry.id}: ${event.detail}`);
    if (result.ok) return { record: next, exitCode };
    if (!contended(result)) break;
    await backoff(attempt);
  }
  ctx.warn(`post-receive of ${entry.id} ran (${exitCode ?? 'none'}) but could not be recorded`);
  return { record: applied, exitCode };
}

/** Refuses the entry for good: its store and every parked object go at once, the record says who and why. */
export async function rejectEntry(entry: EntryRef, reviewer: Pusher, reasonText: string, ctx: QueueContext): Promise<QueueRecord> {
  if (reasonText.trim() === '') throw new QueueError('queue.invalid', 'a rejection needs a reason (--reason): the pusher reads it');
  const reason = maskText(reasonText);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await mustRead(entry);
    const record = stored.record;
    const now = ctx.now();
    const state = effectiveState(record, now);
    if (FINAL_STATES.has(state)) refuseDecided(record, state);
    await audited(ctx, 'queue.reject', record, reviewer, () => checkReviewer(reviewer, requirementsFor(record, ctx.queue), 'reject'));
    if (liveClaim(record, now)) {
      await waitForClaim(entry, stored, ctx);
      continue;
    }
    const by = identityOf(reviewer);
    const event: QueueEvent = { type: 'reject', at: now.toISOString(), by, detail: reason };
    const next: QueueRecord = { ...record, state: 'rejected', events: [...record.events, event] };
    const result = await commitTransition(entry.gitDir, stored, next, `reject ${record.id} by ${reviewer.principal}`);
    if (contended(result)) {
      await backoff(attempt);
      continue;
    }
    if (!result.ok) throw new QueueError('queue.failed', `could not record the rejection of ${record.id}: ${result.message}`);
    await purge(entry, ctx);
    await recordAudit(ctx.audit, queueAuditEvent('queue.reject', next, { reviewer: by, result: 'rejected', reason }), ctx.warn);
    ctx.notify(notifyEvent('reject', next, event));
    return next;
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}

/**
 * Marks a pending entry past its expiry as expired and deletes its store. Resolves to the new record, or null when the entry was not due (or
 * someone else decided it first).
 */
export async function expireEntry(entry: EntryRef, by: Pusher | undefined, ctx: QueueContext): Promise<QueueRecord | null> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await mustRead(entry);
    const record = stored.record;
    const now = ctx.now();
    if (record.state !== 'pending' || effectiveState(record, now) !== 'expired') return null;
    const event: QueueEvent = { type: 'expire', at: now.toISOString(), ...(by === undefined ? {} : { by: identityOf(by) }), detail: `expired at ${record.expiresAt}` };
    const next: QueueRecord = { ...record, state: 'expired', events: [...record.events, event] };
    const result = await commitTransition(entry.gitDir, stored, next, `expire ${record.id}`);
    if (contended(result)) {
      await backoff(attempt);
      continue;
    }
    if (!result.ok) throw new QueueError('queue.failed', `could not expire ${record.id}: ${result.message}`);
    await purge(entry, ctx);
    await recordAudit(ctx.audit, queueAuditEvent('queue.expire', next, { result: 'expired', ...(by === undefined ? {} : { reviewer: identityOf(by) }) }), ctx.warn);
    ctx.notify(notifyEvent('expire', next, event));
    return next;
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}
