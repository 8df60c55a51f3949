import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { listRefs, updateRefs } from '../git/index.js';
import type { Pusher } from '../policy/index.js';
import type { QueueContext } from './context.js';
import { idOfPendingRef, PENDING_PREFIX } from './names.js';
import { effectiveState, FINAL_STATES, type QueueRecord } from './record.js';
import { mayHoldRef, repositoriesWithQueue, findRepositories } from './repos.js';
import { expireEntry } from './review.js';
import { readAllRecords } from './store.js';

/** A pending ref without a record younger than this may belong to a park still in progress. */
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

/** Deletes pending refs whose entry is decided, or that have had no entry for longer than the grace period. */
export async function sweepPendingRefs(gitDir: string, now: Date): Promise<string[]> {
  const pending = await listRefs(gitDir, [PENDING_PREFIX]);
  if (pending.size === 0) return [];
  const { records, problems } = await readAllRecords(gitDir);
  const open = new Set(records.filter((r) => !FINAL_STATES.has(r.record.state)).map((r) => r.record.id));
  const unreadable = new Set(problems.map((p) => p.id));
  const known = new Set(records.map((r) => r.record.id));
  const doomed = [...pending].filter(([ref]) => {
    const id = idOfPendingRef(ref);
    if (id === undefined || open.has(id) || unreadable.has(id)) return false;
    return known.has(id) || age(gitDir, ref, now) > ORPHAN_GRACE_MS;
  });
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
