import { setTimeout as sleep } from 'node:timers/promises';
import { resolveRef } from '../git/index.js';
import { QueueError } from './errors.js';
import { queueRef } from './names.js';
import { effectiveState, FINAL_STATES, type QueueRecord, type QueueState } from './record.js';
import { readRecord } from './store.js';

export interface WaitOptions {
  /** ms; 0 waits for ever. */
  timeout: number;
  /** ms between looks at the record ref. */
  interval?: number;
  now?: () => Date;
}

export type WaitResult =
  | { outcome: 'decided'; state: QueueState; record: QueueRecord }
  | { outcome: 'timeout'; state: QueueState; record: QueueRecord };

/**
 * Blocks until the entry is decided (applied, rejected, stale, expired) or
 * the timeout passes. Reads the record only when its ref moves, so waiting
 * costs one `for-each-ref` per interval.
 */
export async function waitForDecision(gitDir: string, id: string, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? (() => new Date());
  const deadline = options.timeout > 0 ? now().getTime() + options.timeout : Number.POSITIVE_INFINITY;
  const interval = options.interval ?? 500;
  const ref = queueRef(id);
  let seen: string | undefined;
  let record: QueueRecord | undefined;
  for (;;) {
    const oid = await resolveRef(gitDir, ref);
    if (oid === null) throw new QueueError('queue.not-found', `no queue entry ${id} in ${gitDir}`);
    if (oid !== seen || record === undefined) {
      const stored = await readRecord(gitDir, id);
      if (stored === null) throw new QueueError('queue.not-found', `no queue entry ${id} in ${gitDir}`);
      seen = stored.oid;
      record = stored.record;
    }
    const state = effectiveState(record, now());
    if (FINAL_STATES.has(state)) return { outcome: 'decided', state, record };
    const left = deadline - now().getTime();
    if (left <= 0) return { outcome: 'timeout', state, record };
    await sleep(Math.min(interval, left));
  }
}
