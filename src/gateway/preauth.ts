/**
 * What a peer that has not authenticated may cost: an audit log and an
 * operator log whose growth is bounded by authenticated activity, not by how
 * fast someone can open sockets.
 *
 * Pre-authentication events (connections, refusals at the door, evictions,
 * timeouts, connections closed before authenticating, failed attempts with
 * keys anyone can make up) are counted per client address and written as one
 * summary record per address and interval, counts only. Within an interval
 * the first `detailed` failed attempts of an address are still written in
 * full (a misconfigured client's operator wants to see why), and a refusal of
 * a certificate the trusted CA did sign (expired, revoked, wrong address) is
 * written in full once per certificate, code and interval: the number of such
 * certificates is bounded by issuance, which is authenticated activity.
 */
import type { AuditEventInput } from '../audit/index.js';
import type { OperatorLog } from './log.js';

/** What happened before authentication; each is a counter in the summary. */
export type PreAuthKind = 'connections' | 'refused' | 'dropped' | 'evicted' | 'timeouts' | 'closed-before-auth' | 'auth-refusals' | 'errors';

const KINDS: readonly PreAuthKind[] = ['connections', 'refused', 'dropped', 'evicted', 'timeouts', 'closed-before-auth', 'auth-refusals', 'errors'];

/** How a failed attempt is written: sampled (first N per address), or once per certificate and code. */
export type DetailPolicy = { kind: 'sample' } | { kind: 'once'; key: string };

export interface PreAuthSettings {
  /** ms between summaries. */
  interval: number;
  /** Failed attempts written in full per address and interval. */
  detailed: number;
}

/** At most this many addresses get a summary of their own per interval; the rest are summed in one record. */
export const MAX_SUMMARIES = 100;
/** Addresses tracked per interval; past this, new ones are counted under `*`. */
export const MAX_TRACKED = 10_000;
/** Certificates (serial, fingerprint, code) remembered per interval for once-only records. */
const MAX_ONCE = 10_000;
const OTHERS = '*';

class Tally {
  readonly counts = new Map<PreAuthKind, number>();
  readonly codes = new Map<string, number>();
  detailed = 0;
  notShown = 0;

  add(kind: PreAuthKind, code?: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (code !== undefined) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  merge(other: Tally): void {
    for (const [kind, n] of other.counts) this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
    for (const [code, n] of other.codes) this.codes.set(code, (this.codes.get(code) ?? 0) + n);
    this.notShown += other.notShown;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `connections=3 closed-before-auth=2 auth-refusals=1 codes: auth.plain-key=1`: counts only. */
  describe(): string {
    const parts = KINDS.filter((k) => this.counts.has(k)).map((k) => `${k}=${this.counts.get(k)}`);
    if (this.notShown > 0) parts.push(`not-recorded-individually=${this.notShown}`);
    const codes = [...this.codes].sort(([a], [b]) => a.localeCompare(b)).map(([code, n]) => `${code}=${n}`);
    return codes.length > 0 ? `${parts.join(' ')}; codes: ${codes.join(' ')}` : parts.join(' ');
  }
}

export class PreAuthLedger {
  #tallies = new Map<string, Tally>();
  #once = new Set<string>();
  #started = Date.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (event: AuditEventInput) => void,
    private readonly log: OperatorLog,
    private readonly settings: () => PreAuthSettings,
  ) {}

  /** Starts the summary timer (unref'd: it never keeps the process alive). */
  start(): void {
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.flush();
      this.#schedule();
    }, this.settings().interval);
    this.#timer.unref();
  }

  /** Writes the summaries now and stops the timer (shutdown). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #tally(address: string): Tally {
    let tally = this.#tallies.get(address);
    if (tally === undefined) {
      if (this.#tallies.size >= MAX_TRACKED) return this.#tally(OTHERS);
      tally = new Tally();
      this.#tallies.set(address, tally);
    }
    return tally;
  }

  /** Counts an event that is never written on its own. */
  count(address: string, kind: PreAuthKind, code?: string): void {
    this.#tally(address).add(kind, code);
  }

  /**
   * A failed attempt: counted, and written in full when the policy allows
   * (returns whether it was).
   */
  attempt(address: string, event: AuditEventInput, policy: DetailPolicy): boolean {
    const tally = this.#tally(address);
    tally.add('auth-refusals', event.code);
    let show: boolean;
    if (policy.kind === 'once') {
      show = !this.#once.has(policy.key) && this.#once.size < MAX_ONCE;
      if (show) this.#once.add(policy.key);
    } else {
      show = tally.detailed < this.settings().detailed;
      if (show) tally.detailed += 1;
    }
    if (show) this.write(event);
    else tally.notShown += 1;
    return show;
  }

  /** One record per address (the busiest MAX_SUMMARIES; the rest summed as `*`), and one operator log line. */
  flush(): void {
    const now = Date.now();
    const durationMs = now - this.#started;
    const tallies = [...this.#tallies].filter(([, t]) => t.total > 0).sort(([, a], [, b]) => b.total - a.total);
    this.#tallies = new Map();
    this.#once = new Set();
    this.#started = now;
    if (tallies.length === 0) return;
    const shown = tallies.slice(0, MAX_SUMMARIES);
    const rest = new Tally();
    let restAddresses = 0;
    for (const [, tally] of tallies.slice(MAX_SUMMARIES)) {
      rest.merge(tally);
      restAddresses += 1;
    }
    const total = new Tally();
    for (const [address, tally] of shown) {
      total.merge(tally);
      this.write(summary(address, tally, durationMs));
    }
    if (restAddresses > 0) {
      total.merge(rest);
      this.write(summary(OTHERS, rest, durationMs, `${restAddresses} more addresses`));
    }
    const meta = { addresses: tallies.length, seconds: Math.round(durationMs / 1000), counts: total.describe() };
    const worrying = ['refused', 'dropped', 'evicted', 'timeouts'].some((k) => total.counts.has(k as PreAuthKind));
    if (worrying) this.log.warn('connections that did not authenticate', meta);
    else this.log.debug('connections that did not authenticate', meta);
  }
}

function summary(address: string, tally: Tally, durationMs: number, note?: string): AuditEventInput {
  return {
    type: 'ssh.connect',
    identity: { principal: '-', clientAddress: address },
    result: 'summary',
    code: 'preauth.summary',
    durationMs,
    reason: `before authentication, in ${Math.round(durationMs / 1000)}s${note !== undefined ? ` (${note})` : ''}: ${tally.describe()}`,
  };
}
