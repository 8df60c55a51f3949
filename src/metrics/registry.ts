/**
 * The metrics of one `pushgate serve` process, in a registry of its own (not
 * prom-client's global one: several servers may share a process in tests).
 * The help strings are the reference: docs/metrics.md is generated from them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditHead } from '../audit/head.js';

export const METRIC_PREFIX = 'pushgate_';

/** Seconds; a hook check runs from milliseconds (a small push) to tens of seconds (a large import). */
export const SCAN_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Queue entry counts by state, computed when scraped. */
export type QueueEntryCounts = () => Promise<ReadonlyMap<string, number>>;

export interface MetricsOptions {
  /** prom-client's process and Node.js metrics, prefixed `pushgate_` (default true). */
  defaultMetrics?: boolean;
  /** Where `pushgate_queue_entries` comes from; without it the gauge has no values. */
  queueEntries?: QueueEntryCounts;
  /** Where the audit head gauges come from (read when scraped); without it they have no values. */
  auditHead?: () => Promise<AuditHead | undefined>;
  /** Upstream mode: the configured upstream names (the only label values), and each one's oldest mirror age in seconds, read when scraped. */
  upstreams?: { names(): ReadonlySet<string>; mirrorAges(): ReadonlyMap<string, number> };
}

/** Seconds; a mirror refresh is one fetch, from milliseconds to the upstream's timeout. */
export const REFRESH_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The audit head, read once per scrape and shared by the three gauges collected in it. */
class HeadReading {
  source: (() => Promise<AuditHead | undefined>) | undefined;
  #current: Promise<AuditHead | undefined> | undefined;

  read(): Promise<AuditHead | undefined> {
    if (this.source === undefined) return Promise.resolve(undefined);
    this.#current ??= this.source().catch(() => undefined).finally(() => {
      setImmediate(() => {
        this.#current = undefined;
      });
    });
    return this.#current;
  }
}

function collectQueue(source: { counts?: QueueEntryCounts }) {
  return async function collect(this: Gauge<'state'>): Promise<void> {
    if (source.counts === undefined) return;
    const byState = await source.counts();
    this.reset();
    for (const [state, count] of byState) this.set({ state }, count);
  };
}

export class PushgateMetrics {
  readonly registry = new Registry();

  readonly sshSessions = new Counter({
    name: 'pushgate_ssh_sessions_total',
    help: 'SSH sessions that ran a command, by command: receive-pack, upload-pack, upload-archive, queue; refused counts commands and requests the gateway refused.',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });

  readonly sshSessionsActive = new Gauge({
    name: 'pushgate_ssh_sessions_active',
    help: 'SSH sessions running a command now.',
    registers: [this.registry],
  });

  readonly sshAuthFailures = new Counter({
    name: 'pushgate_ssh_auth_failures_total',
    help: 'Refused SSH logins, by reason: the refusal code without its cert./auth. prefix (expired, not-yet-valid, untrusted-ca, revoked, principal, source-address, user, not-a-certificate, bad-signature, timeout, …).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly pushDecisions = new Counter({
    name: 'pushgate_push_decisions_total',
    help: 'Pre-receive decisions, by decision: allow, park, deny. Counted from the audit log, so pushes through sshd or on the server itself count too.',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });

  readonly pushFindings = new Counter({
    name: 'pushgate_push_findings_total',
    help: 'Findings of pre-receive checks, by rule id and decision: deny or park for enforced rules, would-deny or would-park for audit-only ones.',
    labelNames: ['rule', 'decision'] as const,
    registers: [this.registry],
  });

  readonly scanDuration = new Histogram({
    name: 'pushgate_scan_duration_seconds',
    help: 'Time the pre-receive hook spent checking a push, from the audit log.',
    buckets: SCAN_DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** Set by the constructor; read by the queue gauge when scraped. */
  readonly #queueSource: { counts?: QueueEntryCounts } = {};

  readonly queueEntries = new Gauge({
    name: 'pushgate_queue_entries',
    help: 'Queue entries across the repositories under reposRoot, by state: pending, approved, rejected, stale, expired, applied. Read when scraped; a reading is reused for 15 seconds.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: collectQueue(this.#queueSource),
  });

  readonly certificatesIssued = new Counter({
    name: 'pushgate_certificates_issued_total',
    help: 'Certificates signed by POST /v1/certificates, by issuer: the configured name of the identity issuer whose token was accepted.',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  readonly certificateRefusals = new Counter({
    name: 'pushgate_certificate_requests_refused_total',
    help: 'Refused POST /v1/certificates requests, by reason: the refusal code of the audit record (token.expired, token.signature, request.public-key, rate-limited, …).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly #head = new HeadReading();

  readonly auditHeadSeq = new Gauge({
    name: 'pushgate_audit_head_seq',
    help: 'seq of the last record of the audit log (counted per file: it starts again at 1 after a rotation). Read when scraped. With pushgate_audit_head_info it is the anchor that `pushgate audit verify --anchor SEQ:HASH` checks is still in the chain; keep it (Prometheus does) to detect records cut from the end.',
    registers: [this.registry],
    collect: this.#collectHead((gauge, head) => gauge.set(head.seq)),
  });

  readonly auditHeadInfo = new Gauge({
    name: 'pushgate_audit_head_info',
    help: 'Always 1, labelled with the hash of the last record of the audit log (its chain hash: no content of the record). Read when scraped.',
    labelNames: ['hash'] as const,
    registers: [this.registry],
    collect: this.#collectHead((gauge, head) => gauge.set({ hash: head.hash }, 1)),
  });

  readonly auditHeadTime = new Gauge({
    name: 'pushgate_audit_head_timestamp_seconds',
    help: 'Time of the last record of the audit log, in seconds since the epoch. Read when scraped.',
    registers: [this.registry],
    collect: this.#collectHead((gauge, head) => gauge.set(Date.parse(head.time) / 1000)),
  });

  readonly #upstreams: NonNullable<MetricsOptions['upstreams']> = { names: () => new Set(), mirrorAges: () => new Map() };

  readonly upstreamForwards = new Counter({
    name: 'pushgate_upstream_forwards_total',
    help: 'Pushes forwarded to an upstream (upstream mode), by upstream name and result: accepted, rejected (the upstream refused), stale (a ref moved upstream), unavailable (no answer, or the login was refused). From the audit log, so forwards by hooks and by queue approvals count.',
    labelNames: ['upstream', 'result'] as const,
    registers: [this.registry],
  });

  readonly upstreamRefreshDuration = new Histogram({
    name: 'pushgate_upstream_refresh_duration_seconds',
    help: 'Time a session waited for its mirror to be refreshed from the upstream before git started, by upstream name and result: ok, error (the upstream could not be read).',
    labelNames: ['upstream', 'result'] as const,
    buckets: REFRESH_DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamMirrorAge = new Gauge({
    name: 'pushgate_upstream_mirror_age_seconds',
    help: 'Seconds since the least recently refreshed mirror of each upstream was last fetched successfully, over the mirrors this server has served since it started. Read when scraped; it grows while the upstream cannot be read.',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
    collect: ((source) => function collect(this: Gauge<'upstream'>): void {
      this.reset();
      for (const [upstream, age] of source.mirrorAges()) this.set({ upstream }, age);
    })(this.#upstreams),
  });

  /** An upstream name as a label value: a configured name, else `other` (labels stay a bounded set). */
  upstreamLabel(name: unknown): string {
    return typeof name === 'string' && this.#upstreams.names().has(name) ? name : 'other';
  }

  #collectHead<L extends string>(set: (gauge: Gauge<L>, head: AuditHead) => void) {
    const reading = this.#head;
    return async function collect(this: Gauge<L>): Promise<void> {
      const head = await reading.read();
      this.reset();
      if (head !== undefined) set(this, head);
    };
  }

  constructor(options: MetricsOptions = {}) {
    if (options.queueEntries !== undefined) this.#queueSource.counts = options.queueEntries;
    this.#head.source = options.auditHead;
    if (options.upstreams !== undefined) Object.assign(this.#upstreams, options.upstreams);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
