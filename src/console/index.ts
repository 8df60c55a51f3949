/**
 * The review console: reviewers see the queue, open an entry (its refs,
 * commits, findings, masked diff and timeline) and approve or reject it in
 * a browser, logged in through the organisation's identity provider.
 * Mounted under /console/ on pushgate's HTTP listener. Every decision goes
 * through the queue's own `approveEntry` / `rejectEntry` after
 * `findVisibleEntry`, as `pushgate queue approve|reject` over SSH does: the
 * same four-eyes, role, quorum and visibility rules, on the server.
 *
 * Browser-facing protections: the session id lives only in an HttpOnly,
 * SameSite=Lax cookie (Secure over https), sessions expire on the server;
 * every POST needs the session's CSRF token, and a request whose Origin or
 * Sec-Fetch-Site says it came from another site is refused; the CSP allows
 * no inline script and no framing; no secret, token or session id is put in
 * a URL or a log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { AuditSink } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import { permissionsFor } from '../gateway/access.js';
import { isAncestor } from '../git/index.js';
import type { ClientAddress } from '../http/client-address.js';
import type { Pusher } from '../policy/index.js';
import {
  approveEntry, effectiveState, findVisibleEntry, isEntryReviewer, isQueueError, maySeeEntry, normalizeQueueId, notifyDetached, readAllRecords,
  rejectEntry, repositoriesWithQueue, requirementsFor, type QueueContext, type QueueRecord,
} from '../queue/index.js';
import { APP_JS, CONSOLE_CSS, diff2htmlCss } from './assets.js';
import { renderEntryDiff } from './diff.js';
import { BASE, entryPage, entryPath, errorPage, loginPage, queuePage, queueRow, STATE_FILTERS, type PageContext } from './html.js';
import { ConsoleLogin, LoginError } from './login.js';
import { sameToken, SessionStore, type ConsoleUser, type Session } from './session.js';
import { upstreamQueueForwarder } from '../upstream/queue.js';

export { SessionStore, type ConsoleUser, type Session } from './session.js';
export { maskDiff, renderEntryDiff } from './diff.js';
export { esc, text as htmlText } from './html.js';

export interface ConsoleLog {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
}

export interface ConsoleOptions {
  config: () => PushgateConfig;
  audit: AuditSink;
  log: ConsoleLog;
}

export interface ReviewConsole {
  prefix: string;
  handle(request: IncomingMessage, response: ServerResponse, client: ClientAddress): Promise<void>;
  sessions: SessionStore;
}

const MAX_FORM_BYTES = 16 * 1024;
const MAX_TEXT = 2000;

class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function securityHeaders(formTargets: string[]): Record<string, string> {
  const formAction = ["'self'", ...formTargets].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on the console's own form posts.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) throw new Refusal(415, 'send the form as application/x-www-form-urlencoded');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Refusal(413, `the form may have at most ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export function createConsole(options: ConsoleOptions): ReviewConsole {
  const { audit, log } = options;
  const sessions = new SessionStore({ lifetime: () => options.config().console.sessionLifetime, idle: () => options.config().console.idleTimeout });
  let login: ConsoleLogin | undefined;
  const loginFor = (config: PushgateConfig): ConsoleLogin => {
    if (login?.config !== config) login = new ConsoleLogin(config);
    return login;
  };
  let endSessionOrigin: string | undefined;

  const cookieName = (config: PushgateConfig): string => config.console.cookieName;
  const secure = (config: PushgateConfig): boolean => {
    const mode = config.console.secureCookie;
    return mode === 'always' || (mode === 'auto' && config.console.redirectUrl !== null && new URL(config.console.redirectUrl).protocol === 'https:');
  };
  const ownOrigin = (config: PushgateConfig): string | undefined => (config.console.redirectUrl === null ? undefined : new URL(config.console.redirectUrl).origin);

  const setCookie = (config: PushgateConfig, name: string, value: string, maxAgeSeconds: number): string =>
    stringifySetCookie(name, value, { path: BASE, httpOnly: true, sameSite: 'lax', secure: secure(config), maxAge: maxAgeSeconds });

  function send(response: ServerResponse, config: PushgateConfig, status: number, body: string, type: string, extra: Record<string, string | string[]> = {}): void {
    const targets = [loginFor(config).issuerOrigin, endSessionOrigin].filter((o): o is string => o !== undefined);
    response.writeHead(status, { ...securityHeaders([...new Set(targets)]), 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    response.end(body);
  }
  const sendHtml = (response: ServerResponse, config: PushgateConfig, status: number, body: string, extra: Record<string, string | string[]> = {}): void => send(response, config, status, body, 'text/html; charset=utf-8', extra);
  const sendJson = (response: ServerResponse, config: PushgateConfig, status: number, value: unknown): void => send(response, config, status, `${JSON.stringify(value)}\n`, 'application/json');
  const redirect = (response: ServerResponse, config: PushgateConfig, location: string, extra: Record<string, string | string[]> = {}): void => send(response, config, 303, '', 'text/plain', { location, ...extra });

  function cookies(request: IncomingMessage): Record<string, string | undefined> {
    try {
      return parseCookie(request.headers.cookie ?? '');
    } catch {
      return {};
    }
  }

  function sessionOf(request: IncomingMessage, config: PushgateConfig): { id: string; session: Session } | undefined {
    const id = cookies(request)[cookieName(config)];
    const session = sessions.get(id);
    return session === undefined || id === undefined ? undefined : { id, session };
  }

  function pageContext(session: Session | undefined): PageContext {
    const flash = session?.flash;
    if (session !== undefined) delete session.flash;
    return { user: session?.user, csrf: session?.csrf, flash };
  }

  /** Cross-site requests are refused before the token is even looked at; then the token must match. */
  function checkCsrf(request: IncomingMessage, config: PushgateConfig, session: Session, form: URLSearchParams): void {
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new Refusal(403, 'refused: the request came from another site');
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(config)) throw new Refusal(403, 'refused: the request came from another origin');
    const token = form.get('csrf') ?? '';
    if (token === '' || !sameToken(token, session.csrf)) throw new Refusal(403, 'refused: the form\'s security token is missing or stale; reload the page and try again');
  }

  function reviewer(user: ConsoleUser, clientAddress: string): Pusher {
    return { principal: user.principal, roles: user.roles, keyId: user.keyId, clientAddress, ...(user.sponsor ? { sponsor: user.sponsor } : {}) };
  }

  function readable(config: PushgateConfig, user: ConsoleUser): (repository: string) => boolean {
    return (repository) => permissionsFor(user, repository, config.access).has('read');
  }

  function queueContext(config: PushgateConfig): QueueContext {
    return {
      queue: config.queue,
      audit,
      notify: (event) => notifyDetached(config.queue.notify, event, config.log.file),
      warn: (message) => log.warn(message),
      now: () => new Date(),
      // Upstream mode: an approval forwards to the upstream first, as `pushgate queue approve` does.
      ...(config.upstreams.length > 0 ? { upstream: upstreamQueueForwarder(config, audit, (message) => log.warn(message)) } : {}),
    };
  }

  async function visibleRecords(config: PushgateConfig, user: ConsoleUser): Promise<{ record: QueueRecord }[]> {
    const may = readable(config, user);
    const out: { record: QueueRecord }[] = [];
    for (const repo of repositoriesWithQueue(config.reposRoot)) {
      if (!may(repo.name)) continue;
      const { records } = await readAllRecords(repo.gitDir);
      for (const stored of records) if (maySeeEntry(user, stored.record, config.queue)) out.push({ record: stored.record });
    }
    return out;
  }

  function filtersOf(url: URL): { state: string; repo: string } {
    const state = url.searchParams.get('state') ?? 'open';
    return { state: (STATE_FILTERS as readonly string[]).includes(state) ? state : 'open', repo: (url.searchParams.get('repo') ?? '').slice(0, 300) };
  }

  function matches(filter: { state: string; repo: string }, record: QueueRecord, now: Date): boolean {
    const state = effectiveState(record, now);
    if (filter.repo !== '' && record.repository !== filter.repo) return false;
    if (filter.state === 'all') return true;
    if (filter.state === 'open') return state === 'pending' || state === 'approved';
    return state === filter.state;
  }

  async function queueRows(config: PushgateConfig, user: ConsoleUser, url: URL): Promise<{ rows: ReturnType<typeof queueRow>[]; repositories: string[]; filters: { state: string; repo: string } }> {
    const now = new Date();
    const filters = filtersOf(url);
    const all = await visibleRecords(config, user);
    const repositories = [...new Set(all.map((e) => e.record.repository))].sort();
    const rows = all.filter((e) => matches(filters, e.record, now))
      .sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt))
      .map((e) => queueRow(e.record, requirementsFor(e.record, config.queue), now));
    return { rows, repositories, filters };
  }

  async function findEntry(config: PushgateConfig, user: ConsoleUser, idText: string, url: URL): Promise<{ gitDir: string; record: QueueRecord }> {
    const id = normalizeQueueId(decodeURIComponent(idText));
    if (id === undefined) throw new Refusal(404, 'no such queue entry');
    const repo = url.searchParams.get('repo') ?? undefined;
    try {
      const found = await findVisibleEntry(config.reposRoot, config.queue, user, id, repo, readable(config, user));
      return { gitDir: found.repository.gitDir, record: found.stored.record };
    } catch (error) {
      if (isQueueError(error)) throw new Refusal(error.code === 'queue.ambiguous' ? 409 : 404, error.code === 'queue.ambiguous' ? 'this id names entries in several repositories; open it from the queue' : 'no such queue entry (or not one you may see)');
      throw error;
    }
  }

  async function fastForwards(gitDir: string, record: QueueRecord): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    const env = { ...process.env, GIT_ALTERNATE_OBJECT_DIRECTORIES: `${gitDir}/.pushgate/parked/${record.id}.git/objects` };
    for (const u of record.updates) {
      if (/^0+$/.test(u.old) || /^0+$/.test(u.new)) continue;
      const ff = await isAncestor(gitDir, u.old, u.new, env).catch(() => undefined);
      if (ff !== undefined) out.set(u.ref, ff);
    }
    return out;
  }

  async function decide(request: IncomingMessage, response: ServerResponse, config: PushgateConfig, client: ClientAddress, current: { session: Session }, idText: string, action: 'approve' | 'reject', url: URL): Promise<void> {
    const form = await readForm(request);
    checkCsrf(request, config, current.session, form);
    const user = current.session.user;
    const { gitDir, record } = await findEntry(config, user, idText, url);
    const ctx = queueContext(config);
    const back = entryPath(record);
    try {
      if (action === 'approve') {
        const ticked = new Set(form.getAll('attest'));
        const missing = config.console.attestations.filter((_, i) => !ticked.has(String(i)));
        if (missing.length > 0) throw new Refusal(400, `tick every statement before approving (missing: ${missing.join('; ')})`);
        const comment = (form.get('comment') ?? '').slice(0, MAX_TEXT).trim();
        const attested = config.console.attestations.length === 0 ? '' : `attested: ${config.console.attestations.join('; ')}`;
        const note = [comment, attested].filter((p) => p !== '').join('\n');
        const result = await approveEntry({ gitDir, id: record.id }, reviewer(user, client.address), note === '' ? undefined : note, ctx);
        current.session.flash = result.applied
          ? { kind: 'ok', text: `approved and applied (${result.approvals}/${result.required})` }
          : { kind: 'ok', text: `approved (${result.approvals}/${result.required}): waiting for ${result.required - result.approvals} more` };
      } else {
        const reason = (form.get('reason') ?? '').slice(0, MAX_TEXT).trim();
        if (reason === '') throw new Refusal(400, 'a rejection needs a reason: the pusher reads it');
        await rejectEntry({ gitDir, id: record.id }, reviewer(user, client.address), reason, ctx);
        current.session.flash = { kind: 'ok', text: 'rejected' };
      }
      log.info?.(`console: ${action} of ${record.id} by ${user.principal}`, { queueId: record.id, principal: user.principal });
    } catch (error) {
      if (error instanceof Refusal) current.session.flash = { kind: 'error', text: error.message };
      else if (isQueueError(error)) current.session.flash = { kind: 'error', text: `refused (${error.code}): ${error.message}` };
      else throw error;
    }
    redirect(response, config, back);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, client: ClientAddress): Promise<void> {
    const config = options.config();
    const method = request.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://console.invalid');
    } catch {
      sendHtml(response, config, 400, errorPage(400, 'bad request', pageContext(undefined)));
      return;
    }
    const path = url.pathname;
    if (!config.console.enabled) {
      send(response, config, 404, '{"error":{"code":"not-found","message":"the review console is not enabled (console.enabled)"}}\n', 'application/json');
      return;
    }
    if (path === '/console') {
      redirect(response, config, BASE);
      return;
    }
    const current = sessionOf(request, config);
    try {
      if (method === 'GET' && path.startsWith(`${BASE}static/`)) {
        const name = path.slice(`${BASE}static/`.length);
        if (name === 'app.js') send(response, config, 200, APP_JS, 'text/javascript; charset=utf-8');
        else if (name === 'console.css') send(response, config, 200, CONSOLE_CSS, 'text/css; charset=utf-8');
        else if (name === 'diff2html.css') send(response, config, 200, diff2htmlCss(), 'text/css; charset=utf-8');
        else throw new Refusal(404, 'no such file');
        return;
      }
      if (method === 'GET' && path === `${BASE}login`) {
        sendHtml(response, config, 200, loginPage(undefined, pageContext(current?.session)));
        return;
      }
      if (method === 'GET' && path === `${BASE}login/start`) {
        const started = sessions.startLogin();
        let target: URL;
        try {
          target = await loginFor(config).authorizationUrl(started.login);
        } catch (error) {
          log.warn(`console: login could not start: ${(error as Error).message}`);
          sendHtml(response, config, 503, loginPage('The identity provider cannot be reached right now; try again shortly.', pageContext(undefined)));
          return;
        }
        redirect(response, config, target.href, { 'set-cookie': setCookie(config, `${cookieName(config)}_login`, started.id, 600) });
        return;
      }
      if (method === 'GET' && path === `${BASE}callback`) {
        const pending = sessions.takeLogin(cookies(request)[`${cookieName(config)}_login`]);
        const clearLogin = setCookie(config, `${cookieName(config)}_login`, '', 0);
        if (pending === undefined) {
          sendHtml(response, config, 400, loginPage('That login is no longer valid (it expired, or was started in another browser). Log in again.', pageContext(undefined)), { 'set-cookie': clearLogin });
          return;
        }
        const callback = new URL(config.console.redirectUrl!);
        callback.search = url.search;
        try {
          const user = await loginFor(config).complete(callback, pending);
          const created = sessions.create(user);
          log.info?.(`console: ${user.principal} logged in`, { principal: user.principal, roles: user.roles, clientAddress: client.address });
          void audit.record({ type: 'console.login', identity: { principal: user.principal, roles: user.roles, keyId: user.keyId, clientAddress: client.address }, result: 'ok' }).catch(() => undefined);
          redirect(response, config, BASE, { 'set-cookie': [clearLogin, setCookie(config, cookieName(config), created.id, Math.floor(config.console.sessionLifetime / 1000))] });
        } catch (error) {
          const message = error instanceof LoginError ? error.message : 'the login failed';
          log.warn(`console: login refused: ${message}`, { clientAddress: client.address });
          void audit.record({ type: 'console.login', identity: { principal: '(unknown)', clientAddress: client.address }, result: 'refused', reason: message }).catch(() => undefined);
          sendHtml(response, config, 403, loginPage('The login was refused; an administrator can see why in the operator log.', pageContext(undefined)), { 'set-cookie': clearLogin });
        }
        return;
      }
      if (method === 'POST' && path === `${BASE}logout`) {
        if (current === undefined) {
          redirect(response, config, `${BASE}login`);
          return;
        }
        const form = await readForm(request);
        checkCsrf(request, config, current.session, form);
        sessions.destroy(current.id);
        log.info?.(`console: ${current.session.user.principal} logged out`, { principal: current.session.user.principal });
        void audit.record({ type: 'console.logout', identity: { principal: current.session.user.principal, roles: current.session.user.roles, clientAddress: client.address }, result: 'ok' }).catch(() => undefined);
        const clear = setCookie(config, cookieName(config), '', 0);
        const end = await loginFor(config).endSessionUrl(new URL(`${BASE}login`, config.console.redirectUrl!).href).catch(() => undefined);
        if (end !== undefined) endSessionOrigin = end.origin;
        redirect(response, config, end?.href ?? `${BASE}login`, { 'set-cookie': clear });
        return;
      }

      // Everything below needs a session.
      if (current === undefined) {
        if (method === 'GET' && (path === `${BASE}queue.json`)) {
          sendJson(response, config, 401, { error: { code: 'login-required', message: 'log in to the console first' } });
        } else if (method === 'GET') {
          redirect(response, config, `${BASE}login`);
        } else {
          sendHtml(response, config, 401, errorPage(401, 'log in first', pageContext(undefined)));
        }
        return;
      }
      const user = current.session.user;
      if (method === 'GET' && path === BASE) {
        const { rows, repositories, filters } = await queueRows(config, user, url);
        sendHtml(response, config, 200, queuePage(rows, filters, repositories, pageContext(current.session)));
        return;
      }
      if (method === 'GET' && path === `${BASE}queue.json`) {
        const { rows } = await queueRows(config, user, url);
        sendJson(response, config, 200, { entries: rows });
        return;
      }
      const entry = /^\/console\/entry\/([^/]+)(?:\/(approve|reject))?$/.exec(path);
      if (entry !== null && method === 'GET' && entry[2] === undefined) {
        const { gitDir, record } = await findEntry(config, user, entry[1]!, url);
        const [diffs, fastForward] = await Promise.all([renderEntryDiff(gitDir, record), fastForwards(gitDir, record)]);
        sendHtml(response, config, 200, entryPage({
          record, requirements: requirementsFor(record, config.queue), diffs, fastForward, attestations: config.console.attestations, now: new Date(),
          reviewer: isEntryReviewer(user, record, config.queue),
        }, pageContext(current.session)));
        return;
      }
      if (entry !== null && method === 'POST' && entry[2] !== undefined) {
        await decide(request, response, config, client, current, entry[1]!, entry[2] as 'approve' | 'reject', url);
        return;
      }
      throw new Refusal(method === 'GET' || method === 'POST' ? 404 : 405, method === 'GET' || method === 'POST' ? 'no such page' : 'method not allowed');
    } catch (error) {
      if (error instanceof Refusal) {
        sendHtml(response, config, error.status, errorPage(error.status, error.message, pageContext(current?.session)));
        return;
      }
      throw error;
    }
  }

  return { prefix: BASE, handle, sessions };
}
