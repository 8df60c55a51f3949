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
  /** The entry in the review console, when it is enabled. */
  url?: string;
}

/** The entry's page in the console whose base URL (`…/console/`) is `consoleUrl`. */
export function consoleEntryUrl(consoleUrl: string, id: string, repository: string): string {
  const url = new URL(`entry/${encodeURIComponent(id)}`, consoleUrl);
  url.searchParams.set('repo', repository);
  return url.href;
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

function webhooksOf(config: NotifyConfig): WebhookConfig[] {
  return [...(config.webhook === null ? [] : [config.webhook]), ...(config.webhooks ?? [])];
}

export function wantsNotification(config: NotifyConfig, event: NotifyEventName): boolean {
  return config.events.includes(event) && (webhooksOf(config).length > 0 || config.command !== null);
}

/** `<`, `>` and `&` as Slack wants them escaped (and Teams shows as written): no mention, link or markup from a pusher's text. */
function chatEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const VERB: Record<NotifyEventName, string> = { park: 'parked for review', approve: 'approved', reject: 'rejected', expire: 'expired', stale: 'went stale' };

/**
 * One message both Slack's incoming webhooks (`text`, mrkdwn) and Teams'
 * (a MessageCard: `text`, `summary`, an OpenUri action) accept. Every text
 * in it is already masked and control-escaped by notifyEvent; here `<>&`
 * are escaped too, so a ref or reason cannot become a link or a mention.
 */
export function chatMessage(event: NotifyEvent): Record<string, unknown> {
  const refs = event.updates.map((u) => u.ref).join(', ');
  const lines = [
    `pushgate: push ${chatEscape(event.id)} to ${chatEscape(event.repository)} ${VERB[event.event] ?? chatEscape(event.event)}${event.by ? ` by ${chatEscape(event.by)}` : ''}`,
    `pusher: ${chatEscape(event.pusher)}; refs: ${chatEscape(refs)}`,
    ...(event.rules.length > 0 ? [`findings: ${chatEscape(event.rules.join(', '))}`] : []),
    ...(event.reason ? [`reason: ${chatEscape(event.reason)}`] : []),
    ...(event.detail ? [`detail: ${chatEscape(event.detail)}`] : []),
    ...(event.url ? [`<${event.url}|review it in the console>`] : []),
  ];
  const summary = `pushgate ${event.id}: ${VERB[event.event] ?? event.event}`;
  return {
    text: lines.join('\n'),
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: chatEscape(summary),
    ...(event.url ? { potentialAction: [{ '@type': 'OpenUri', name: 'Open in the console', targets: [{ os: 'default', uri: event.url }] }] } : {}),
  };
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
  // Webhooks are posted at the same time: the slowest sets the pace.
  for (const hook of webhooksOf(config)) {
    const attempts = hook.retries + 1;
    let one = attempts * hook.timeout;
    for (let attempt = 1; attempt < attempts && one < NOTIFY_MAX_LIFETIME_MS; attempt++) one += backoff(backoffMs, attempt);
    webhook = Math.max(webhook, one);
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
  /** The first webhook that failed, else the first one. */
  webhook?: { ok: boolean; attempts: number; status?: number; error?: string };
  /** Every webhook, in order, when more than one is configured. */
  webhooks?: { ok: boolean; attempts: number; status?: number; error?: string }[];
  command?: { ok: boolean; exitCode: number | null; error?: string };
}

/** Sends one event to everything configured; never throws. */
export async function deliver(config: NotifyConfig, event: NotifyEvent, options: { backoffMs?: number } = {}): Promise<DeliveryResult> {
  const linked: NotifyEvent = config.consoleUrl ? { ...event, url: consoleEntryUrl(config.consoleUrl, event.id, event.repository) } : event;
  const body = JSON.stringify(linked);
  const chat = JSON.stringify(chatMessage(linked));
  const [webhooks, command] = await Promise.all([
    Promise.all(webhooksOf(config).map((hook) => postWebhook(hook, event.event, hook.format === 'chat' ? chat : body, options.backoffMs ?? 500))),
    config.command === null ? undefined : runCommand(config.command, body),
  ]);
  const failed = webhooks.find((w) => !w.ok);
  const webhook = failed ?? webhooks[0];
  return { ...(webhook === undefined ? {} : { webhook }), ...(webhooks.length > 1 ? { webhooks } : {}), ...(command === undefined ? {} : { command }) };
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
