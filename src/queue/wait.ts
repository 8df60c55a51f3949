import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveRef } from '../git/index.js';
import { entryNotFound } from './repos.js';
import { recordStore, storeExists } from './layout.js';
import { queueRef } from './names.js';
import { effectiveState, FINAL_STATES, type QueueRecord, type QueueState } from './record.js';
import { readRecord, type StoredRecord } from './store.js';

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

const OID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * Where entry `id`'s record ref points, read from its loose ref file (the
 * records' repository is never packed: pushgate writes it with gc.auto=0),
 * else through git. Null when there is none.
 */
export async function recordOid(gitDir: string, id: string): Promise<string | null> {
  const store = recordStore(gitDir);
  if (!storeExists(store)) return null;
  try {
    const text = (await readFile(join(store, ...queueRef(id).split('/')), 'utf8')).trim();
    if (OID.test(text)) return text;
  } catch {
    // not loose: ask git
  }
  return resolveRef(store, queueRef(id));
}

/**
 * Blocks until the entry is decided (applied, rejected, stale, expired) or
 * the timeout passes. Reads the record only when its ref moves, so waiting
 * costs one small file read per interval. (The gateway serves waits over
 * SSH with a WaitHub instead: one poller for every waiter.)
 */
export async function waitForDecision(gitDir: string, id: string, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? (() => new Date());
  const deadline = options.timeout > 0 ? now().getTime() + options.timeout : Number.POSITIVE_INFINITY;
  const interval = options.interval ?? 500;
  let seen: string | undefined;
  let record: QueueRecord | undefined;
  for (;;) {
    const oid = await recordOid(gitDir, id);
    if (oid === null) throw entryNotFound(id);
    if (oid !== seen || record === undefined) {
      const stored = await readRecord(gitDir, id);
      if (stored === null || stored.legacy === true) throw entryNotFound(id);
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

interface Waiter {
  deadline: number;
  resolve(result: WaitResult): void;
  reject(error: Error): void;
}

interface Watched {
  gitDir: string;
  id: string;
  stored: StoredRecord | undefined;
  waiters: Set<Waiter>;
  busy: boolean;
}

/**
 * Many waits in one process: every entry waited on is looked at once per
 * interval, however many wait for it, by reading its record ref's file; the
 * record is read again only when that moves. No process, no git per waiter.
 */
export class WaitHub {
  readonly #watched = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval = 500,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Entries being watched, and waiters in all. */
  get size(): { entries: number; waiters: number } {
    let waiters = 0;
    for (const w of this.#watched.values()) waiters += w.waiters.size;
    return { entries: this.#watched.size, waiters };
  }

  /** Waits for entry `id` of the repository `gitDir` (which the caller has found and may see). */
  wait(gitDir: string, id: string, timeout: number, signal?: AbortSignal): Promise<WaitResult> {
    const key = `${gitDir}\0${id}`;
    let watched = this.#watched.get(key);
    if (watched === undefined) {
      watched = { gitDir, id, stored: undefined, waiters: new Set(), busy: false };
      this.#watched.set(key, watched);
    }
    const entry = watched;
    return new Promise<WaitResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        this.#forget(key, entry);
        return;
      }
      const waiter: Waiter = {
        deadline: timeout > 0 ? this.now().getTime() + timeout : Number.POSITIVE_INFINITY,
        resolve: (result) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(result);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        entry.waiters.delete(waiter);
        this.#forget(key, entry);
        reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      entry.waiters.add(waiter);
      this.#start();
      void this.#look(key, entry);
    });
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      for (const [key, entry] of this.#watched) void this.#look(key, entry);
    }, this.interval);
    this.#timer.unref();
  }

  #forget(key: string, entry: Watched): void {
    if (entry.waiters.size === 0 && this.#watched.get(key) === entry) this.#watched.delete(key);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  async #look(key: string, entry: Watched): Promise<void> {
    if (entry.busy) return;
    entry.busy = true;
    try {
      const oid = await recordOid(entry.gitDir, entry.id);
      if (oid === null) throw entryNotFound(entry.id);
      if (entry.stored === undefined || entry.stored.oid !== oid) {
        const stored = await readRecord(entry.gitDir, entry.id);
        if (stored === null || stored.legacy === true) throw entryNotFound(entry.id);
        entry.stored = stored;
      }
      const now = this.now();
      const state = effectiveState(entry.stored.record, now);
      for (const waiter of [...entry.waiters]) {
        if (FINAL_STATES.has(state)) waiter.resolve({ outcome: 'decided', state, record: entry.stored.record });
        else if (now.getTime() >= waiter.deadline) waiter.resolve({ outcome: 'timeout', state, record: entry.stored.record });
        else continue;
        entry.waiters.delete(waiter);
      }
    } catch (error) {
      for (const waiter of entry.waiters) waiter.reject(error as Error);
      entry.waiters.clear();
    } finally {
      entry.busy = false;
      this.#forget(key, entry);
    }
  }
}
