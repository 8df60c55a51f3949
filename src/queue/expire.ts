import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { listRefs, updateRefs } from '../git/index.js';
import type { Pusher } from '../policy/index.js';
import type { QueueContext } from './context.js';
import { idOfPendingRef, PENDING_PREFIX } from './names.js';
import { effectiveState, FINAL_STATES, type QueueRecord } from './record.js';
import { mayHoldRef, repositoriesWithQueue, findRepositories } from './repos.js';
import { expireEntry } from './review.js';
import { readAllRecords, readRecord } from './store.js';

/**
 * Pending refs without a record come from a git that died inside a park's
 * ref transaction, and for an instant from a park whose transaction is
 * being committed (its refs renamed one by one): younger ones are left alone.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface ExpireReport {
  expired: QueueRecord[];
  /** Pending refs left by parks that crashed before publishing, or by decided entries. */
  swept: { repository: string; ref: string }[];
  problems: string[];
}

/**
 * The queue's maintenance pass over every repository: overdue pending
 * entries become expired (their pending refs go with them), and pending refs
 * that belong to no open entry are deleted.
 */
export async function expireAll(root: string, by: Pusher | undefined, ctx: QueueContext): Promise<ExpireReport> {
  const report: ExpireReport = { expired: [], swept: [], problems: [] };
  for (const repo of repositoriesWithQueue(root)) {
    const { records, problems } = await readAllRecords(repo.gitDir);
    for (const p of problems) report.problems.push(`${repo.name} ${p.id}: ${p.message}`);
    for (const { record } of records) {
      if (record.state !== 'pending' || effectiveState(record, ctx.now()) !== 'expired') continue;
      try {
        const expired = await expireEntry({ gitDir: repo.gitDir, id: record.id }, by, ctx);
        if (expired !== null) report.expired.push(expired);
      } catch (error) {
        report.problems.push(`${repo.name} ${record.id}: ${(error as Error).message}`);
      }
    }
  }
  for (const repo of findRepositories(root).filter((r) => mayHoldRef(r.gitDir, PENDING_PREFIX))) {
    for (const ref of await sweepPendingRefs(repo.gitDir, ctx.now())) report.swept.push({ repository: repo.name, ref });
  }
  return report;
}

/**
 * Deletes pending refs whose entry is decided, or that have had no entry
 * for longer than the grace period (a git that died inside a park's ref
 * transaction). Each entry is looked up by name before anything goes: a
 * ref listing that races `git pack-refs` may miss records.
 */
export async function sweepPendingRefs(gitDir: string, now: Date): Promise<string[]> {
  const pending = await listRefs(gitDir, [PENDING_PREFIX]);
  const byId = new Map<string, [string, string][]>();
  for (const [ref, oid] of pending) {
    const id = idOfPendingRef(ref);
    if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), [ref, oid]]);
  }
  const doomed: [string, string][] = [];
  for (const [id, refs] of byId) {
    let stored;
    try {
      stored = await readRecord(gitDir, id);
    } catch {
      continue;
    }
    const orphanedLongAgo = stored === null && refs.every(([ref]) => age(gitDir, ref, now) > ORPHAN_GRACE_MS);
    if (orphanedLongAgo || (stored !== null && FINAL_STATES.has(stored.record.state))) doomed.push(...refs);
  }
  if (doomed.length === 0) return [];
  // Compare-and-swap: a ref that changed meanwhile is left for the next pass.
  const result = await updateRefs(gitDir, doomed.map(([ref, oid]) => ({ ref, newOid: '0'.repeat(oid.length), oldOid: oid })));
  return result.ok ? doomed.map(([ref]) => ref) : [];
}

/** How long a ref has existed, as far as its loose file says; a packed ref is old (gc packed it). */
function age(gitDir: string, ref: string, now: Date): number {
  try {
    return now.getTime() - lstatSync(join(gitDir, ...ref.split('/'))).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
