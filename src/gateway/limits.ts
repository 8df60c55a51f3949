/** Counts of things in use per key (client address, principal), with a ceiling checked on acquire. */
export class KeyedCounter {
  readonly #counts = new Map<string, number>();
  #total = 0;

  get total(): number {
    return this.#total;
  }

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Takes one for `key` unless that would exceed `max`. */
  tryAcquire(key: string, max: number): boolean {
    const current = this.count(key);
    if (current >= max) return false;
    this.#counts.set(key, current + 1);
    this.#total += 1;
    return true;
  }

  release(key: string): void {
    const current = this.count(key);
    if (current <= 0) return;
    if (current === 1) this.#counts.delete(key);
    else this.#counts.set(key, current - 1);
    this.#total -= 1;
  }
}

/** Why a new connection is turned away, or null when it may proceed. */
export function connectionRefusal(
  counter: KeyedCounter,
  address: string,
  limits: { maxConnections: number; maxConnectionsPerAddress: number },
): 'limit.connections' | 'limit.connections-per-address' | null {
  if (counter.total >= limits.maxConnections) return 'limit.connections';
  if (counter.count(address) >= limits.maxConnectionsPerAddress) return 'limit.connections-per-address';
  return null;
}

/**
 * sshd's MaxStartups: the chance (percent) that a new connection is dropped
 * when `startups` connections have not authenticated yet: 0 below `start`,
 * `rate` at `start` rising linearly to 100 at `full`.
 */
export function startupDropChance(startups: number, limit: { start: number; rate: number; full: number }): number {
  if (startups < limit.start) return 0;
  if (startups >= limit.full) return 100;
  return limit.rate + Math.floor(((100 - limit.rate) * (startups - limit.start)) / (limit.full - limit.start));
}
