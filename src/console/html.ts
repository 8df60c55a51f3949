/**
 * The console's pages, rendered on the server. Every text that came from a
 * push, a commit, a certificate or a token goes through `text()`: secrets
 * masked, control and bidi characters shown as visible escapes, then HTML
 * escaped; attribute values the same. Links are built only from pushgate's
 * own paths with encodeURIComponent'd parts, never from pushed text, so a
 * `javascript:` value stays text. No inline script or style: the CSP forbids
 * both, and the one script is a static file.
 */
import { isZeroOid } from '../git/index.js';
import { effectiveState, type QueueEvent, type QueueIdentity, type QueueRecord, type Requirements } from '../queue/index.js';
import { safeBlock, safeLine } from '../text/index.js';
import type { RenderedDiff } from './diff.js';
import type { ConsoleUser } from './session.js';

export const BASE = '/console/';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Plain HTML escaping of text pushgate itself wrote. */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

/** Hostile one-line text (a ref, a path, a subject, a principal) for HTML. */
export function text(value: string | undefined | null): string {
  return value === undefined || value === null ? '' : esc(safeLine(value));
}

/** Hostile multi-line text for HTML (inside a pre-wrap element). */
export function block(value: string | undefined | null): string {
  return value === undefined || value === null ? '' : esc(safeBlock(value));
}

export function entryPath(record: Pick<QueueRecord, 'id' | 'repository'>, action = ''): string {
  return `${BASE}entry/${encodeURIComponent(record.id)}${action === '' ? '' : `/${action}`}?repo=${encodeURIComponent(record.repository)}`;
}

function short(oid: string): string {
  return isZeroOid(oid) ? '(none)' : esc(oid.slice(0, 12));
}

export function age(iso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

export interface PageContext {
  user: ConsoleUser | undefined;
  csrf: string | undefined;
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
}

function who(identity: QueueIdentity): string {
  return `${text(identity.principal)}${identity.sponsor ? ` <span class="muted">(sponsored by ${text(identity.sponsor)})</span>` : ''}`;
}

export function layout(title: string, body: string, ctx: PageContext): string {
  const user = ctx.user === undefined ? '' : `<div class="user"><span class="principal" id="current-user">${text(ctx.user.principal)}</span> <span class="muted">${text(ctx.user.roles.join(', ') || 'no roles')}</span>
<form method="post" action="${BASE}logout" class="inline"><input type="hidden" name="csrf" value="${esc(ctx.csrf ?? '')}"><button type="submit">Log out</button></form></div>`;
  const flash = ctx.flash === undefined ? '' : `<p class="flash ${ctx.flash.kind}" role="status" id="flash">${text(ctx.flash.text)}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${esc(title)} · pushgate</title>
<link rel="stylesheet" href="${BASE}static/diff2html.css"><link rel="stylesheet" href="${BASE}static/console.css">
<script src="${BASE}static/app.js" defer></script>
</head><body>
<header><a class="brand" href="${BASE}">pushgate review console</a>${user}</header>
<main>${flash}${body}</main>
</body></html>
`;
}

export function loginPage(message: string | undefined, ctx: PageContext): string {
  return layout('Log in', `<section class="login"><h1>Review console</h1>
${message === undefined ? '' : `<p class="flash error" role="alert">${esc(message)}</p>`}
<p>Reviewers log in through the organisation's identity provider.</p>
<p><a class="button" id="login" href="${BASE}login/start">Log in</a></p></section>`, ctx);
}

export function errorPage(status: number, message: string, ctx: PageContext): string {
  return layout(`Error ${status}`, `<h1>${esc(status)}</h1><p class="flash error" role="alert">${esc(message)}</p><p><a href="${BASE}">Back to the queue</a></p>`, ctx);
}

export interface QueueRow {
  id: string;
  repository: string;
  state: string;
  refs: string[];
  pusher: string;
  sponsor?: string;
  createdAt: string;
  age: string;
  rules: { rule: string; count: number }[];
  approvals: number;
  required: number;
  url: string;
}

/** What the queue page and its JSON feed show of one entry: display text only, already masked and escaped for display (not for HTML). */
export function queueRow(record: QueueRecord, requirements: Requirements, now: Date): QueueRow {
  const counts = new Map<string, number>();
  for (const f of record.findings) counts.set(safeLine(f.ruleId), (counts.get(safeLine(f.ruleId)) ?? 0) + 1);
  return {
    id: safeLine(record.id),
    repository: safeLine(record.repository),
    state: effectiveState(record, now),
    refs: record.updates.map((u) => safeLine(u.ref)),
    pusher: safeLine(record.pusher.principal),
    ...(record.pusher.sponsor ? { sponsor: safeLine(record.pusher.sponsor) } : {}),
    createdAt: record.createdAt,
    age: age(record.createdAt, now),
    rules: [...counts].map(([rule, count]) => ({ rule, count })),
    approvals: record.approvals.length,
    required: requirements.approvals,
    url: entryPath(record),
  };
}

function rowHtml(row: QueueRow): string {
  return `<tr data-id="${esc(row.id)}">
<td><a class="entry-link" href="${esc(row.url)}">${esc(row.id)}</a></td>
<td>${esc(row.repository)}</td>
<td>${row.refs.map((r) => `<code>${esc(r)}</code>`).join('<br>')}</td>
<td>${esc(row.pusher)}${row.sponsor ? ` <span class="muted">(sponsor ${esc(row.sponsor)})</span>` : ''}</td>
<td title="${esc(row.createdAt)}">${esc(row.age)}</td>
<td>${row.rules.map((r) => `<span class="rule">${esc(r.rule)}${r.count > 1 ? ` ×${r.count}` : ''}</span>`).join(' ')}</td>
<td>${row.approvals}/${row.required}</td>
<td><span class="state state-${esc(row.state)}">${esc(row.state)}</span></td>
</tr>`;
}

export const STATE_FILTERS = ['open', 'pending', 'approved', 'applied', 'rejected', 'stale', 'expired', 'all'] as const;

export function queuePage(rows: QueueRow[], filters: { state: string; repo: string }, repositories: string[], ctx: PageContext): string {
  const stateOptions = STATE_FILTERS.map((s) => `<option value="${s}"${s === filters.state ? ' selected' : ''}>${s}</option>`).join('');
  const repoOptions = ['', ...repositories].map((r) => `<option value="${esc(r)}"${r === filters.repo ? ' selected' : ''}>${r === '' ? 'all repositories' : text(r)}</option>`).join('');
  return layout('Queue', `<h1>Parked pushes</h1>
<form method="get" action="${BASE}" class="filters" id="filters">
<label>State <select name="state" id="filter-state">${stateOptions}</select></label>
<label>Repository <select name="repo" id="filter-repo">${repoOptions}</select></label>
<button type="submit">Filter</button> <span class="muted" id="live">updates live</span>
</form>
<table class="queue" id="queue" data-feed="${BASE}queue.json">
<thead><tr><th>Entry</th><th>Repository</th><th>Refs</th><th>Pusher</th><th>Age</th><th>Findings</th><th>Approvals</th><th>State</th></tr></thead>
<tbody id="queue-body">${rows.map(rowHtml).join('\n')}</tbody>
</table>
<p class="muted" id="queue-empty"${rows.length === 0 ? '' : ' hidden'}>No entries match.</p>`, ctx);
}

function refKind(update: QueueRecord['updates'][number], fastForward: boolean | undefined): string {
  if (isZeroOid(update.old)) return 'create';
  if (isZeroOid(update.new)) return 'delete';
  return fastForward === false ? 'non-fast-forward' : fastForward === true ? 'fast-forward' : 'update';
}

function eventLine(event: QueueEvent): string {
  return `<li><time datetime="${esc(event.at)}">${esc(event.at.replace(/\.\d{3}Z$/, 'Z'))}</time> <strong>${text(event.type)}</strong>${event.by ? ` by ${who(event.by)}` : ''}${event.comment ? `: <span class="pre">${block(event.comment)}</span>` : ''}${event.detail ? ` — <span class="pre">${block(event.detail)}</span>` : ''}</li>`;
}

export interface EntryView {
  record: QueueRecord;
  requirements: Requirements;
  diffs: RenderedDiff[];
  fastForward: Map<string, boolean>;
  attestations: string[];
  now: Date;
  /** Whether the viewer holds the roles to decide it (the server checks again on every request). */
  reviewer: boolean;
}

export function entryPage(view: EntryView, ctx: PageContext): string {
  const { record, requirements, now } = view;
  const state = effectiveState(record, now);
  const refs = record.updates.map((u) => `<tr><td><code>${text(u.ref)}</code></td><td><code>${short(u.old)}</code> → <code>${short(u.new)}</code></td><td>${refKind(u, view.fastForward.get(u.ref))}</td></tr>`).join('');
  const commits = record.commits.map((c) => `<tr><td><code>${short(c.oid)}</code></td><td class="subject">${text(c.subject)}</td><td>${text(c.author)}</td><td>${who(record.pusher)}</td></tr>`).join('');
  const more = record.stats.commits > record.commits.length ? `<p class="muted">… and ${record.stats.commits - record.commits.length} more commits</p>` : '';
  const findings = record.findings.map((f, i) => {
    const at = f.path === undefined ? '' : `${text(f.path)}${f.line === undefined ? '' : `:${f.line}`}`;
    return `<tr class="finding" id="finding-${i}"><td><code>${text(f.ruleId)}</code><br><span class="muted">${f.mode === 'audit' ? `audit, would ${text(f.action)}` : text(f.action)}</span></td>
<td>${text(f.title)}${f.excerpt ? `<br><code class="excerpt">${text(f.excerpt)}</code>` : ''}${f.note ? `<br><span class="muted">${text(f.note)}</span>` : ''}</td>
<td>${f.ref ? `<code>${text(f.ref)}</code> ` : ''}${f.commit ? `<code>${short(f.commit)}</code> ` : ''}${at ? `<code class="location">${at}</code>` : ''}</td>
<td class="fix">${text(f.fix)}</td></tr>`;
  }).join('\n');
  const diffs = view.diffs.map((d) => `<section class="diff"><h3>Diff of <code>${text(d.ref)}</code></h3>
${d.note ? `<p class="muted">${esc(d.note)}</p>` : ''}${d.truncated ? '<p class="flash error">The diff is longer than the console shows; it was cut off. Fetch the entry to see it all.</p>' : ''}
${d.html}</section>`).join('\n');
  const open = state === 'pending' || state === 'approved';
  const csrf = `<input type="hidden" name="csrf" value="${esc(ctx.csrf ?? '')}">`;
  const checklist = view.attestations.map((a, i) => `<label class="attest"><input type="checkbox" name="attest" value="${i}" required> ${esc(a)}</label>`).join('\n');
  const decide = !open ? '' : `<section class="decide" id="decide"><h2>Decide</h2>
<form method="post" action="${esc(entryPath(record, 'approve'))}" id="approve-form" class="decision">
${csrf}
${checklist}
<label>Comment (optional)<br><textarea name="comment" maxlength="2000" rows="2"></textarea></label>
<button type="submit" id="approve">Approve</button>
</form>
<form method="post" action="${esc(entryPath(record, 'reject'))}" id="reject-form" class="decision">
${csrf}
<label>Reason (required; the pusher reads it)<br><textarea name="reason" maxlength="2000" rows="2" required></textarea></label>
<button type="submit" id="reject" class="danger">Reject</button>
</form>
${view.reviewer ? '' : '<p class="muted">You do not hold a reviewer role for this entry; the server will refuse a decision.</p>'}
</section>`;
  return layout(`Entry ${record.id}`, `<p><a href="${BASE}">← queue</a></p>
<h1>Entry <code>${text(record.id)}</code> <span class="state state-${esc(state)}" id="entry-state">${esc(state)}</span></h1>
<dl class="facts">
<dt>Repository</dt><dd>${text(record.repository)}</dd>
<dt>Pushed by</dt><dd>${who(record.pusher)}${record.pusher.keyId ? ` <span class="muted">key id ${text(record.pusher.keyId)}</span>` : ''}</dd>
<dt>Parked</dt><dd><time datetime="${esc(record.createdAt)}">${esc(record.createdAt)}</time> (${age(record.createdAt, now)} ago); expires ${esc(record.expiresAt)}</dd>
${record.reason ? `<dt>Reason</dt><dd class="pre">${block(record.reason)}${record.reviewRequested ? ' <span class="muted">(the pusher asked for review)</span>' : ''}</dd>` : ''}
<dt>Approvals</dt><dd id="approvals">${record.approvals.length}/${requirements.approvals}${record.approvals.length ? `: ${record.approvals.map((a) => text(a.by.principal)).join(', ')}` : ''}; reviewers need ${text(requirements.reviewerRoles.map((r) => r.join(' or ')).join(' and '))}</dd>
<dt>Diff</dt><dd>${record.stats.commits} commits, ${record.stats.files} files, +${record.stats.insertions} −${record.stats.deletions}</dd>
</dl>
${decide}
<h2>Ref updates</h2><table class="refs"><thead><tr><th>Ref</th><th>Old → new</th><th>Kind</th></tr></thead><tbody>${refs}</tbody></table>
<h2>Commits</h2><table class="commits"><thead><tr><th>Commit</th><th>Subject</th><th>Author</th><th>Pushed by</th></tr></thead><tbody>${commits}</tbody></table>${more}
<h2>Findings (${record.findings.length})</h2><table class="findings"><thead><tr><th>Rule</th><th>What</th><th>Where</th><th>Fix</th></tr></thead><tbody>${findings}</tbody></table>
<h2>Changes</h2>${diffs}
<h2>Timeline</h2><ol class="timeline" id="timeline">${record.events.map(eventLine).join('\n')}</ol>`, ctx);
}
