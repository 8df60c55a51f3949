import type { AuditEventInput } from '../../src/audit/index.js';
import { loadConfig, type PushgateConfig } from '../../src/config/index.js';
import type { NotifyEvent, QueueContext } from '../../src/queue/index.js';

export interface TestContext {
  ctx: QueueContext;
  audited: AuditEventInput[];
  notified: NotifyEvent[];
  warnings: string[];
  /** Moves the context's clock; 0 is now. */
  shift(ms: number): void;
}

/** A queue context that keeps what it is told, with a clock the test can move. */
export function testContext(config: PushgateConfig, options: { failAudit?: boolean } = {}): TestContext {
  const audited: AuditEventInput[] = [];
  const notified: NotifyEvent[] = [];
  const warnings: string[] = [];
  let offset = 0;
  const ctx: QueueContext = {
    queue: config.queue,
    audit: {
      record: async (event) => {
        if (options.failAudit) throw new Error('disk full');
        audited.push(event);
      },
    },
    notify: (event) => notified.push(event),
    warn: (message) => warnings.push(message),
    now: () => new Date(Date.now() + offset),
  };
  return { ctx, audited, notified, warnings, shift: (ms) => (offset = ms) };
}

export function configOf(path: string): PushgateConfig {
  return loadConfig(path);
}

export const alice = { principal: 'alice', roles: ['reviewer'] };
export const bob = { principal: 'bob', roles: ['reviewer'] };
export const carol = { principal: 'carol', roles: ['reviewer'] };
