import type { AuditConfig } from '../config/types.js';
import { appendEvents } from './append.js';
import { AuditError } from './errors.js';
import { readHmacKey } from './key.js';
import type { LockOptions } from './lock.js';
import { maskText } from '../text/mask.js';
import { sanitizeEvent } from './schema.js';
import { Shipper, type ShipStats } from './ship.js';
import type { AuditEventInput, AuditSink } from './types.js';

export interface OpenAuditOptions {
  /** Key of the HMAC chain; by default read from `config.hmacKeyFile`. */
  hmacKey?: Buffer;
  /**
   * Ship to a `stderr` transport (default true). A hook must pass false: its
   * stderr is relayed to the pusher.
   */
  stderr?: boolean;
  /** Records a destination may hold before new ones are dropped (default 1000). */
  shipQueue?: number;
  lock?: LockOptions;
  now?: () => Date;
}

interface Pending {
  event: AuditEventInput;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Records per locked append; a busy process writes what queued up meanwhile in one go. */
const MAX_BATCH = 512;

/**
 * The audit trail: `record()` resolves once the record is in the file and
 * fsynced. Records of one process are appended in call order; concurrent
 * calls share one lock, one write and one fsync.
 */
export class AuditLog implements AuditSink {
  readonly file: string;
  private readonly key: Buffer | null = null;
  /** An unreadable key fails every record(), not the caller that merely opens the log. */
  private readonly keyError: AuditError | undefined;
  private readonly shipper: Shipper;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly config: AuditConfig, private readonly options: OpenAuditOptions = {}) {
    this.file = config.file;
    try {
      this.key = options.hmacKey ?? (config.hmacKeyFile === null ? null : readHmacKey(config.hmacKeyFile));
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      this.keyError = error;
    }
    const transports = config.transports.filter((t) => t.type !== 'stderr' || options.stderr !== false);
    this.shipper = new Shipper(transports, options.shipQueue);
  }

  record(event: AuditEventInput): Promise<void> {
    if (this.closed) return Promise.reject(new AuditError('audit.closed', `the audit log ${this.file} is closed`));
    if (this.keyError !== undefined) return Promise.reject(this.keyError);
    // Every free-text field masked here, before it is hashed: a push option, a ref name, a
    // reason or a key id carrying a credential is stored as the same mask as a finding.
    const clean = sanitizeEvent(event, maskText);
    if (clean === undefined) {
      return Promise.reject(new AuditError('audit.invalid-event', `not an audit event: type ${JSON.stringify((event as { type?: unknown } | null)?.type)} is not of the form area.event`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ event: clean, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const lines = await appendEvents(batch.map((p) => p.event), {
          file: this.file,
          key: this.key,
          rotate: this.config.rotate,
          ...(this.options.lock ? { lock: this.options.lock } : {}),
          ...(this.options.now ? { now: this.options.now } : {}),
        });
        for (const p of batch) p.resolve();
        this.shipper.ship(lines);
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.flushing = undefined;
  }

  /** How the additional destinations are doing. */
  shipping(): ShipStats {
    return this.shipper.counters;
  }

  /** Waits for pending records, then gives destinations at most `timeoutMs` to finish. */
  async close(timeoutMs = 1000): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.shipper.close(timeoutMs);
  }
}

/** Opens the audit trail described by `config`; nothing is read or written until the first record. */
export function openAudit(config: AuditConfig, options: OpenAuditOptions = {}): AuditLog {
  return new AuditLog(config, options);
}

/** A sink that drops everything: for tests and commands that record nothing. */
export const nullAudit: AuditSink = { record: async () => {} };
