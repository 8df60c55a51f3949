import { rm } from 'node:fs/promises';
import type { Pusher } from '../policy/index.js';
import type { QueueContext } from './context.js';
import { listEntryStores, removeEntryStore } from './layout.js';
import { effectiveState, FINAL_STATES, type QueueRecord } from './record.js';
import { findRepositories } from './repos.js';
import { expireEntry } from './review.js';
import { readAllRecords, readRecord } from './store.js';

/**
 * An entry store without a record comes from a park that was cut off before
 * it published the entry, and for an instant from a park being published:
 * younger ones are left alone.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface ExpireReport {
  expired: QueueRecord[];
  /** Entry stores deleted: of decided entries (a command cut off before it deleted them), or of parks that never published. */
  swept: { repository: string; id: string }[];
  problems: string[];
}

/**
 * The queue's maintenance pass over every repository: overdue pending
 * entries become expired (their stores, with every parked object, are
 * deleted), and stores that belong to no open entry are deleted.
 */
export async function expireAll(root: string, by: Pusher | undefined, ctx: QueueContext): Promise<ExpireReport> {
  const report: ExpireReport = { expired: [], swept: [], problems: [] };
  for (const repo of findRepositories(root)) {
    let records;
    try {
      records = await readAllRecords(repo.gitDir);
    } catch (error) {
      report.problems.push(`${repo.name}: ${(error as Error).message}`);
      continue;
    }
    for (const p of records.problems) report.problems.push(`${repo.name} ${p.id}: ${p.message}`);
    for (const { record, legacy } of records.records) {
      if (legacy || record.state !== 'pending' || effectiveState(record, ctx.now()) !== 'expired') continue;
      try {
        const expired = await expireEntry({ gitDir: repo.gitDir, id: record.id }, by, ctx);
        if (expired !== null) report.expired.push(expired);
      } catch (error) {
        report.problems.push(`${repo.name} ${record.id}: ${(error as Error).message}`);
      }
    }
    for (const id of await sweepStores(repo.gitDir, ctx.now())) report.swept.push({ repository: repo.name, id });
  }
  return report;
}

/**
 * Deletes the entry stores of decided entries, and those that have had no
 * entry for longer than the grace period (a park cut off before it
 * published), plus leftovers of cut-off creates and deletes. Each entry is
 * looked up by name before anything goes.
 */
export async function sweepStores(gitDir: string, now: Date): Promise<string[]> {
  const { stores, leftovers } = listEntryStores(gitDir);
  const swept: string[] = [];
  for (const store of stores) {
    let stored;
    try {
      stored = await readRecord(gitDir, store.id);
    } catch {
      continue;
    }
    const orphanedLongAgo = stored === null && now.getTime() - store.mtimeMs > ORPHAN_GRACE_MS;
    const decided = stored !== null && stored.legacy !== true && FINAL_STATES.has(stored.record.state);
    if ((orphanedLongAgo || decided) && await removeEntryStore(gitDir, store.id).catch(() => false)) swept.push(store.id);
  }
  for (const leftover of leftovers) {
    if (now.getTime() - leftover.mtimeMs > ORPHAN_GRACE_MS || leftover.path.includes('/.gone-')) await rm(leftover.path, { recursive: true, force: true }).catch(() => undefined);
  }
  return swept;
}
