/**
 * The audit trail written from a worker thread. Appends are synchronous
 * (lock, write, fdatasync) by design; on the gateway's event loop each one
 * would stall every connection's data path, so they happen here instead.
 */
import { Worker } from 'node:worker_threads';
import type { AuditEventInput, AuditSink } from '../audit/index.js';
import type { AuditConfig } from '../config/index.js';

type Reply = { id: number; error?: string } | { ready: true } | { fatal: string };

export class ThreadedAudit implements AuditSink {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #next = 0;
  #closed: Promise<void> | undefined;
  #failure: Error | undefined;
  readonly #ready: Promise<void>;

  constructor(config: AuditConfig) {
    this.#worker = new Worker(new URL('./audit-worker.js', import.meta.url), { workerData: config });
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.#ready.catch(() => {});
    void this.#ready.finally(() => this.#settled()).catch(() => {});
    this.#worker.on('error', failed);
    this.#worker.on('message', (reply: Reply) => {
      if ('ready' in reply) return ready();
      if ('fatal' in reply) return failed(new Error(reply.fatal));
      const waiter = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      this.#settled();
      if (reply.error === undefined) waiter?.resolve();
      else waiter?.reject(new Error(reply.error));
    });
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      const error = new Error(`the audit thread exited (${code})`);
      failed(error);
      this.#fail(error);
    });
    // Kept referenced only while something waits on it (see #settled); a
    // 'message' listener refs the port, so this comes after the listeners.
    this.#worker.ref();
  }

  /** Lets the process exit when nothing is waiting on the thread. */
  #settled(): void {
    if (this.#pending.size === 0) this.#worker.unref();
  }

  /** Resolves once the audit log is open; rejects with why it cannot be. */
  ready(): Promise<void> {
    return this.#ready;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#pending.values()) waiter.reject(error);
    this.#pending.clear();
  }

  record(event: AuditEventInput): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(new Error('the audit log is closed'));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, event });
    });
  }

  /** Waits for every record sent so far (at most `timeoutMs`), then ends the thread. */
  close(timeoutMs = 5000): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      if (this.#failure !== undefined) {
        void this.#worker.terminate().then(() => resolve());
        return;
      }
      this.#worker.ref();
      const timer = setTimeout(() => void this.#worker.terminate(), timeoutMs);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#worker.postMessage({ close: true });
    });
    return this.#closed;
  }
}
