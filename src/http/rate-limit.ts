/**
 * Requests per client address in fixed windows. Memory stays bounded: ended
 * windows are dropped as the map is swept, and past `maxClients` addresses
 * new ones share a single overflow bucket rather than growing the map.
 */
export interface RateLimitOptions {
  requests: number;
  /** ms. */
  window: number;
  maxClients?: number;
  now?: () => number;
}

/** `first` marks the first refusal of an address in its window: worth recording once, not per request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; first: boolean };

const OVERFLOW = '\0overflow';

export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #now: () => number;
  readonly #maxClients: number;
  #sweptAt = 0;

  constructor(private readonly options: RateLimitOptions) {
    this.#now = options.now ?? Date.now;
    this.#maxClients = options.maxClients ?? 100_000;
  }

  /** Counts one request from `address`. */
  take(address: string): RateDecision {
    const now = this.#now();
    this.#sweep(now);
    let key = address;
    if (!this.#windows.has(key) && this.#windows.size >= this.#maxClients) key = OVERFLOW;
    let window = this.#windows.get(key);
    if (window === undefined || now - window.start >= this.options.window) {
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.options.requests) return { allowed: true };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + this.options.window - now) / 1000)), first: window.count === this.options.requests + 1 };
  }

  get clients(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    if (now - this.#sweptAt < this.options.window) return;
    this.#sweptAt = now;
    for (const [key, window] of this.#windows) {
      if (now - window.start >= this.options.window) this.#windows.delete(key);
    }
  }
}
