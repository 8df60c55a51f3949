import type { AuditTransport } from '../config/types.js';
import { deferredCaOptions } from '../hook/deferred-ca.cjs';

type Winston = typeof import('winston');
type Logger = import('winston').Logger;
type Transport = import('winston').LoggerOptions['transports'] & import('node:stream').Writable;
type TransportBase = new () => import('node:stream').Writable;

const MESSAGE = Symbol.for('message');

export interface ShipStats {
  shipped: number;
  /** Records not shipped because a destination's queue was full. */
  dropped: number;
  /** Records a destination did not accept (error, timeout, non-2xx). */
  failed: number;
}

interface Destination {
  transport: AuditTransport;
  /** Records handed to the logger and not yet done. */
  inFlight: number;
  logger?: Logger;
}

async function post(url: URL, body: string, timeout: number): Promise<boolean> {
  const client = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    const options = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout,
      ...(url.protocol === 'https:' ? deferredCaOptions() : {}),
    };
    let request: import('node:http').ClientRequest;
    try {
      request = client.request(url, options, (response) => {
        response.resume();
        response.on('end', () => resolve((response.statusCode ?? 500) < 300));
        response.on('error', () => resolve(false));
      });
    } catch {
      resolve(false);
      return;
    }
    // A collector that is down must not keep a short-lived process (a hook) alive.
    request.on('socket', (socket) => socket.unref());
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(false));
    request.end(body);
  });
}

/**
 * Copies of written records for the configured winston transports. Each
 * destination has a bounded queue; when it is full, records are dropped and
 * counted. Nothing here can block or fail an append. winston is loaded on the
 * first record, so processes with no transports never pay for it.
 */
export class Shipper {
  private readonly destinations: Destination[];
  private loading: Promise<void> | undefined;
  private readonly stats: ShipStats = { shipped: 0, dropped: 0, failed: 0 };

  constructor(transports: AuditTransport[], private readonly maxQueue = 1000) {
    this.destinations = transports.map((transport) => ({ transport, inFlight: 0 }));
  }

  get counters(): ShipStats {
    return { ...this.stats };
  }

  ship(lines: string[]): void {
    if (this.destinations.length === 0) return;
    this.loading ??= this.load();
    for (const destination of this.destinations) {
      for (const line of lines) {
        if (destination.inFlight >= this.maxQueue) {
          this.stats.dropped++;
          continue;
        }
        destination.inFlight++;
        void this.loading.then(() => {
          if (destination.logger === undefined) return this.done(destination, false);
          destination.logger.log({ level: 'info', message: line });
        });
      }
    }
  }

  private done(destination: Destination, ok: boolean): void {
    destination.inFlight--;
    if (ok) this.stats.shipped++;
    else this.stats.failed++;
  }

  private async load(): Promise<void> {
    let winston: Winston;
    try {
      winston = ((await import('winston')) as unknown as { default: Winston }).default;
    } catch {
      return;
    }
    // The record's line as it is in the file, not winston's own JSON around it.
    const asStored = winston.format((info) => Object.assign(info, { [MESSAGE]: info.message }));
    for (const destination of this.destinations) {
      try {
        const transport = this.makeTransport(winston, destination);
        transport.on('logged', () => this.done(destination, true));
        transport.on('error', () => {});
        const logger = winston.createLogger({ level: 'info', format: asStored(), transports: [transport], exitOnError: false });
        logger.on('error', () => {});
        destination.logger = logger;
      } catch {
        // Left without a logger: its records count as failed.
      }
    }
  }

  private makeTransport(winston: Winston, destination: Destination): Transport {
    const config = destination.transport;
    if (config.type === 'stderr') return new winston.transports.Console({ stderrLevels: ['info'] }) as unknown as Transport;
    const url = new URL(config.url);
    const shipper = this;
    // The typings name the base class `transport`; at run time it is `Transport`.
    const Base = (winston as unknown as { Transport: TransportBase }).Transport;
    return new (class HttpCollector extends Base {
      log(info: Record<string | symbol, unknown>, callback: () => void): void {
        void post(url, String(info[MESSAGE]), config.timeout).then((ok) => {
          if (ok) this.emit('logged', info);
          else shipper.done(destination, false);
          callback();
        });
      }
    })() as unknown as Transport;
  }

  /** Waits until every destination is done with what it was given, at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.destinations.some((d) => d.inFlight > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const destination of this.destinations) destination.logger?.close();
  }
}
