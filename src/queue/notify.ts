import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NotifyCommandConfig, QueueConfig, QueueEvent as NotifyEventName, WebhookConfig } from '../config/types.js';
import { safeBlock, safeLine } from '../text/index.js';
import type { QueueEvent, QueueRecord } from './record.js';

export type NotifyConfig = QueueConfig['notify'];

/** What a webhook receives (POST body) and a command reads on stdin. */
export interface NotifyEvent {
  event: NotifyEventName;
  id: string;
  repository: string;
  state: QueueRecord['state'];
  at: string;
  pusher: string;
  by?: string;
  comment?: string;
  detail?: string;
  reason?: string;
  expiresAt: string;
  updates: { ref: string; old: string; new: string }[];
  /** Rule ids of the findings; the findings themselves stay in the queue. */
  rules: string[];
}

/**
 * The event as it leaves pushgate. Every text in it may have come from a
 * pusher, a commit or a certificate (a reason, a ref name, a principal, a
 * reviewer's comment) and ends up in a chat channel or a script: secrets are
 * masked as in findings, and control characters are shown as escapes, so a
 * webhook consumer or a terminal never acts on them. Object ids, times and
 * rule ids are pushgate's own.
 */
export function notifyEvent(event: NotifyEventName, record: QueueRecord, entry?: QueueEvent): NotifyEvent {
  const last = entry ?? record.events.at(-1);
  return {
    event,
    id: safeLine(record.id),
    repository: safeLine(record.repository),
    state: record.state,
    at: last?.at ?? new Date().toISOString(),
    pusher: safeLine(record.pusher.principal),
    ...(last?.by && last.type !== 'park' ? { by: safeLine(last.by.principal) } : {}),
    ...(last?.comment ? { comment: safeBlock(last.comment) } : {}),
    ...(last?.detail ? { detail: safeBlock(last.detail) } : {}),
    ...(record.reason ? { reason: safeBlock(record.reason) } : {}),
    expiresAt: record.expiresAt,
    updates: record.updates.map(({ ref, old, new: next }) => ({ ref: safeLine(ref), old, new: next })),
    rules: [...new Set(record.findings.map((f) => safeLine(f.ruleId)))],
  };
}

export function wantsNotification(config: NotifyConfig, event: NotifyEventName): boolean {
  return config.events.includes(event) && (config.webhook !== null || config.command !== null);
}

const CHILD = fileURLToPath(new URL('./notify-main.js', import.meta.url));
export const PAYLOAD_VARIABLE = 'PUSHGATE_NOTIFY_PAYLOAD';

/** What a notifier needs besides the event: where its operator log lines go (`log.file`). */
export interface NotifyPayload {
  config: NotifyConfig;
  event: NotifyEvent;
  logFile?: string | null;
}

/** Seconds added to a notifier's own timeouts before its watchdog ends it. */
export const NOTIFY_GRACE_MS = 10_000;
/** However many retries are configured, a notifier never runs longer than this. */
export const NOTIFY_MAX_LIFETIME_MS = 3_600_000;

function backoff(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), 30_000);
}

/**
 * How long a notifier may run: every webhook attempt to its timeout with the
 * waits between them, and the command (run at the same time) to its
 * timeout, plus a grace; at most an hour. Past it, its watchdog ends it.
 */
export function notifyLifetimeMs(config: NotifyConfig, backoffMs = 500): number {
  let webhook = 0;
  if (config.webhook !== null) {
    const attempts = config.webhook.retries + 1;
    webhook = attempts * config.webhook.timeout;
    for (let attempt = 1; attempt < attempts && webhook < NOTIFY_MAX_LIFETIME_MS; attempt++) webhook += backoff(backoffMs, attempt);
  }
  const command = config.command === null ? 0 : config.command.timeout;
  return Math.min(Math.max(webhook, command) + NOTIFY_GRACE_MS, NOTIFY_MAX_LIFETIME_MS);
}

/**
 * Hands the delivery to a detached process and returns at once: a slow or
 * dead webhook never holds up a push or a reviewer. The payload travels in
 * the environment (not argv, which other users can read). The process runs
 * from / (it must not depend on the caller's directory staying there) and
 * ends itself after notifyLifetimeMs, saying so in the operator log
 * (`logFile`, the config's log.file; syslog when null).
 */
export function notifyDetached(config: NotifyConfig, event: NotifyEvent, logFile: string | null = null): void {
  if (!wantsNotification(config, event.event)) return;
  const payload: NotifyPayload = { config, event, logFile };
  const env = { ...process.env, [PAYLOAD_VARIABLE]: JSON.stringify(payload) };
  try {
    const child = spawn(process.execPath, [CHILD], { detached: true, stdio: 'ignore', env, cwd: '/' });
    child.once('error', () => {});
    child.unref();
  } catch {
    // A notification that cannot even start is not worth failing a transition for.
  }
}

export interface DeliveryResult {
  webhook?: { ok: boolean; attempts: number; status?: number; error?: string };
  command?: { ok: boolean; exitCode: number | null; error?: string };
}

/** Sends one event to everything configured; never throws. */
export async function deliver(config: NotifyConfig, event: NotifyEvent, options: { backoffMs?: number } = {}): Promise<DeliveryResult> {
  const body = JSON.stringify(event);
  const [webhook, command] = await Promise.all([
    config.webhook === null ? undefined : postWebhook(config.webhook, event.event, body, options.backoffMs ?? 500),
    config.command === null ? undefined : runCommand(config.command, body),
  ]);
  return { ...(webhook === undefined ? {} : { webhook }), ...(command === undefined ? {} : { command }) };
}

export const SIGNATURE_HEADER = 'x-pushgate-signature-256';

/** `sha256=<hex HMAC-SHA256 of the body>`, as GitHub signs its webhooks. */
export function signBody(key: Buffer | string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

async function postWebhook(config: WebhookConfig, event: string, body: string, backoffMs: number): Promise<NonNullable<DeliveryResult['webhook']>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'pushgate', 'x-pushgate-event': event };
  try {
    if (config.secretFile !== null) headers[SIGNATURE_HEADER] = signBody(readFileSync(config.secretFile, 'utf8').trim(), body);
  } catch (error) {
    return { ok: false, attempts: 0, error: `webhook secret ${config.secretFile}: ${(error as Error).message}` };
  }
  let last: { status?: number; error?: string } = {};
  const attempts = config.retries + 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(config.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(config.timeout) });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      last = { status: response.status };
      if (!retryable(response.status)) return { ok: false, attempts: attempt, status: response.status };
    } catch (error) {
      last = { error: (error as Error).message };
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, backoff(backoffMs, attempt)));
  }
  return { ok: false, attempts, ...last };
}

function runCommand(config: NotifyCommandConfig, body: string): Promise<NonNullable<DeliveryResult['command']>> {
  return new Promise((resolve) => {
    const [program, ...args] = config.run;
    if (program === undefined) {
      resolve({ ok: false, exitCode: null, error: 'queue.notify.command.run is empty' });
      return;
    }
    const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), config.timeout);
    child.stdin.on('error', () => {});
    child.stdin.end(body);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, exitCode: null, error: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true, exitCode: 0 } : { ok: false, exitCode: code, error: signal ? `killed by ${signal} (timeout ${config.timeout} ms)` : `exit status ${code}` });
    });
  });
}
