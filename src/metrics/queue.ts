/**
 * Queue entries by state across every repository under reposRoot, read when
 * scraped and kept for a while, so frequent scrapes do not walk every
 * repository each time.
 */
import { effectiveState, QUEUE_STATES, readAllRecords, repositoriesWithQueue } from '../queue/index.js';

export const QUEUE_COUNT_TTL_MS = 15_000;

export interface QueueCountOptions {
  reposRoot: () => string;
  /** A repository whose entries could not be read: counted without them. */
  onProblem(repository: string, message: string): void;
  ttlMs?: number;
  now?: () => number;
}

/** Counts once, with every state present (0 when none). */
export async function countQueueEntries(reposRoot: string, onProblem: QueueCountOptions['onProblem'], now = new Date()): Promise<Map<string, number>> {
  const counts = new Map<string, number>(QUEUE_STATES.map((state) => [state, 0]));
  for (const repo of repositoriesWithQueue(reposRoot)) {
    try {
      const { records, problems } = await readAllRecords(repo.gitDir);
      for (const { record } of records) {
        const state = effectiveState(record, now);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      for (const problem of problems) onProblem(repo.name, `queue entry ${problem.id}: ${problem.message}`);
    } catch (error) {
      onProblem(repo.name, (error as Error).message);
    }
  }
  return counts;
}

/** A cached counter: one walk per `ttlMs`, shared by scrapes that arrive while it runs. */
export function cachedQueueCounts(options: QueueCountOptions): () => Promise<ReadonlyMap<string, number>> {
  const ttl = options.ttlMs ?? QUEUE_COUNT_TTL_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; root: string; counts: Promise<Map<string, number>> } | undefined;
  return () => {
    const root = options.reposRoot();
    if (cached === undefined || cached.root !== root || now() - cached.at >= ttl) {
      const counts = countQueueEntries(root, options.onProblem);
      cached = { at: now(), root, counts };
      // A walk that failed as a whole is not kept: the next scrape tries again.
      counts.catch(() => {
        if (cached?.counts === counts) cached = undefined;
      });
    }
    return cached.counts;
  };
}
