import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RefUpdate } from '../git/index.js';
import type { Pusher } from '../policy/index.js';
import { queueAuditEvent, recordAudit } from './audit.js';
import type { EntryRef, QueueContext } from './context.js';
import { isQueueError, QueueError } from './errors.js';
import { notifyEvent } from './notify.js';
import { runPostReceive } from './post-receive.js';
import { effectiveState, FINAL_STATES, identityOf, type QueueEvent, type QueueRecord } from './record.js';
import { checkApprover, checkReviewer, requirementsFor, samePerson } from './rules.js';
import { commitTransition, readRecord, type StoredRecord, type TransitionResult } from './store.js';

/** Rounds of read–decide–compare-and-swap before giving up on a busy entry. */
const ATTEMPTS = 25;

async function mustRead(entry: EntryRef): Promise<StoredRecord> {
  const stored = await readRecord(entry.gitDir, entry.id);
  if (stored === null) throw new QueueError('queue.not-found', `no queue entry ${entry.id} in ${entry.gitDir}`);
  return stored;
}

/** Someone else changed the entry first, or holds its lock: read again and decide again. */
function contended(result: TransitionResult): boolean {
  return !result.ok && (result.reason === 'record-moved' || result.reason === 'locked');
}

async function backoff(attempt: number): Promise<void> {
  await sleep(5 + randomInt(10 * attempt));
}

function pendingDeletes(record: QueueRecord): RefUpdate[] {
  return record.updates.filter((u) => u.pending !== null).map((u) => ({ ref: u.pending!, newOid: '0'.repeat(u.new.length) }));
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
 * applies the push: every ref update in one transaction, compare-and-swap
 * on the old values, together with the record's move to `applied`. Two
 * reviewers at once: one transaction wins, the other reads again and finds
 * the entry decided. A ref that moved since the push makes the entry stale.
 */
export async function approveEntry(entry: EntryRef, reviewer: Pusher, comment: string | undefined, ctx: QueueContext): Promise<ApproveResult> {
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
    const by = identityOf(reviewer);
    let approvals = record.approvals;
    let events = record.events;
    if (state === 'pending') {
      const approval = { by, at, ...(comment ? { comment } : {}) };
      approvals = [...approvals, approval];
      events = [...events, { type: 'approve', ...approval }];
    }
    const counted = `${approvals.length}/${requirements.approvals}`;
    const added = approvals.length > record.approvals.length;

    if (approvals.length < requirements.approvals) {
      const next: QueueRecord = { ...record, approvals, events };
      const result = await commitTransition(entry.gitDir, stored, next, `approve ${record.id} by ${reviewer.principal} (${counted})`, []);
      if (contended(result)) {
        await backoff(attempt);
        continue;
      }
      if (!result.ok) throw new QueueError('queue.failed', `could not record the approval of ${record.id}: ${result.message}`);
      await recordAudit(ctx.audit, queueAuditEvent('queue.approve', next, { reviewer: by, result: `approved ${counted}`, ...(comment ? { reason: comment } : {}) }), ctx.warn);
      ctx.notify(notifyEvent('approve', next));
      return { record: next, applied: false, approvals: approvals.length, required: requirements.approvals };
    }

    const applyEvent: QueueEvent = { type: 'apply', at, by };
    const applied: QueueRecord = { ...record, approvals, state: 'applied', events: [...events, applyEvent], postReceive: { state: 'pending' } };
    const result = await commitTransition(entry.gitDir, stored, applied, `apply ${record.id}: approved by ${approvals.map((a) => a.by.principal).join(', ')}`, [...refUpdates(record), ...pendingDeletes(record)]);
    if (result.ok) {
      if (added) await recordAudit(ctx.audit, queueAuditEvent('queue.approve', applied, { reviewer: by, result: `approved ${counted}`, ...(comment ? { reason: comment } : {}) }), ctx.warn);
      await recordAudit(ctx.audit, queueAuditEvent('queue.apply', applied, { reviewer: by, result: 'applied' }), ctx.warn);
      ctx.notify(notifyEvent('approve', applied, applyEvent));
      const postReceive = await afterApply(entry, applied, ctx);
      return { record: postReceive.record, applied: true, approvals: approvals.length, required: requirements.approvals, postReceive: postReceive.exitCode };
    }
    if (contended(result)) {
      await backoff(attempt);
      continue;
    }
    if (result.reason === 'stale') {
      const detail = `${result.ref ?? 'a ref'} moved since the push; nothing was applied. Fetch, rebase your work onto the current ${result.ref ?? 'branch'} and push again.`;
      const staleEvent: QueueEvent = { type: 'stale', at, by, detail };
      const stale: QueueRecord = { ...record, approvals, state: 'stale', events: [...events, staleEvent] };
      const marked = await commitTransition(entry.gitDir, stored, stale, `stale ${record.id}: ${result.ref ?? ''} moved`, pendingDeletes(record));
      if (contended(marked)) {
        await backoff(attempt);
        continue;
      }
      if (!marked.ok) throw new QueueError('queue.failed', `${record.id}: ${detail} (and the entry could not be marked stale: ${marked.message})`);
      await recordAudit(ctx.audit, queueAuditEvent('queue.stale', stale, { reviewer: by, result: 'stale', reason: detail }), ctx.warn);
      ctx.notify(notifyEvent('stale', stale, staleEvent));
      throw new QueueError('queue.stale', `queue entry ${record.id} is stale: ${detail}`);
    }
    if (state === 'pending') {
      const approved: QueueRecord = { ...record, approvals, events, state: 'approved' };
      await commitTransition(entry.gitDir, stored, approved, `approve ${record.id} by ${reviewer.principal} (${counted}); not applied yet`, []).catch(() => undefined);
    }
    throw new QueueError('queue.failed', `queue entry ${record.id} is approved but its refs could not be updated (${result.message}); run \`pushgate queue approve ${record.id}\` again to retry`);
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}

/** Runs post-receive once and records that it ran; a failure to record is only a warning. */
async function afterApply(entry: EntryRef, applied: QueueRecord, ctx: QueueContext): Promise<{ record: QueueRecord; exitCode: number | null }> {
  const exitCode = await runPostReceive(entry.gitDir, applied);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await readRecord(entry.gitDir, entry.id).catch(() => null);
    if (stored === null || stored.record.postReceive?.state !== 'pending') break;
    const event: QueueEvent = { type: 'post-receive', at: ctx.now().toISOString(), detail: exitCode === null ? 'no post-receive hook' : `exit status ${exitCode}` };
    const next: QueueRecord = { ...stored.record, postReceive: { state: 'ran', ...(exitCode === null ? {} : { exitCode }) }, events: [...stored.record.events, event] };
    const result = await commitTransition(entry.gitDir, stored, next, `post-receive ${entry.id}: ${event.detail}`, []);
    if (result.ok) return { record: next, exitCode };
    if (!contended(result)) break;
    await backoff(attempt);
  }
  ctx.warn(`post-receive of ${entry.id} ran (${exitCode ?? 'none'}) but could not be recorded`);
  return { record: applied, exitCode };
}

/** Refuses the entry for good: its pending refs go, the record says who and why. */
export async function rejectEntry(entry: EntryRef, reviewer: Pusher, reason: string, ctx: QueueContext): Promise<QueueRecord> {
  if (reason.trim() === '') throw new QueueError('queue.invalid', 'a rejection needs a reason (--reason): the pusher reads it');
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const stored = await mustRead(entry);
    const record = stored.record;
    const now = ctx.now();
    const state = effectiveState(record, now);
    if (FINAL_STATES.has(state)) refuseDecided(record, state);
    await audited(ctx, 'queue.reject', record, reviewer, () => checkReviewer(reviewer, requirementsFor(record, ctx.queue), 'reject'));
    const by = identityOf(reviewer);
    const event: QueueEvent = { type: 'reject', at: now.toISOString(), by, detail: reason };
    const next: QueueRecord = { ...record, state: 'rejected', events: [...record.events, event] };
    const result = await commitTransition(entry.gitDir, stored, next, `reject ${record.id} by ${reviewer.principal}: ${reason}`, pendingDeletes(record));
    if (contended(result)) {
      await backoff(attempt);
      continue;
    }
    if (!result.ok) throw new QueueError('queue.failed', `could not record the rejection of ${record.id}: ${result.message}`);
    await recordAudit(ctx.audit, queueAuditEvent('queue.reject', next, { reviewer: by, result: 'rejected', reason }), ctx.warn);
    ctx.notify(notifyEvent('reject', next, event));
    return next;
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}

/**
 * Marks a pending entry past its expiry as expired and deletes its pending
 * refs. Resolves to the new record, or null when the entry was not due (or
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
    const result = await commitTransition(entry.gitDir, stored, next, `expire ${record.id}`, pendingDeletes(record));
    if (contended(result)) {
      await backoff(attempt);
      continue;
    }
    if (!result.ok) throw new QueueError('queue.failed', `could not expire ${record.id}: ${result.message}`);
    await recordAudit(ctx.audit, queueAuditEvent('queue.expire', next, { result: 'expired', ...(by === undefined ? {} : { reviewer: identityOf(by) }) }), ctx.warn);
    ctx.notify(notifyEvent('expire', next, event));
    return next;
  }
  throw new QueueError('queue.busy', `queue entry ${entry.id} kept changing under us; try again`);
}
