/**
 * What the queue commands print. Everything in a record that came from a
 * pusher, a commit or a certificate (subjects, author names, ref names,
 * paths, reasons, push options, comments, principals, key ids) is hostile:
 * it goes through `safeLine` (secrets masked, control characters shown as
 * visible escapes), so `ESC[8m` cannot hide a finding and OSC 52 cannot
 * reach the reviewer's clipboard. JSON output escapes the same characters
 * as \u sequences (JSON.stringify leaves DEL, C1 controls and bidi marks raw).
 */
import { isZeroOid } from '../git/index.js';
import { safeLine, terminalSafeJson } from '../text/index.js';
import { fetchHints, localFetchCommand, remoteFetchCommand } from './fetch.js';
import { effectiveState, type QueueIdentity, type QueueRecord } from './record.js';
import type { Requirements } from './rules.js';

/** One line per entry for `queue list`, and the same fields as JSON. */
export interface EntrySummary {
  id: string;
  repository: string;
  state: QueueRecord['state'];
  pusher: string;
  createdAt: string;
  expiresAt: string;
  refs: string[];
  approvals: number;
  required: number;
  rules: string[];
  stats: QueueRecord['stats'];
  /** Kept in the old layout (inside the repository): `pushgate queue migrate` moves it. */
  legacy?: true;
}

export function summarize(record: QueueRecord, requirements: Requirements, now: Date, legacy = false): EntrySummary {
  return {
    id: record.id,
    repository: record.repository,
    state: effectiveState(record, now),
    pusher: record.pusher.principal,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    refs: record.updates.map((u) => u.ref),
    approvals: record.approvals.length,
    required: requirements.approvals,
    rules: [...new Set(record.findings.map((f) => f.ruleId))],
    stats: record.stats,
    ...(legacy ? { legacy: true as const } : {}),
  };
}

/** JSON for a terminal: what JSON.stringify leaves raw and a terminal would act on is written as \u escapes (still the same JSON value). */
export function jsonText(value: unknown): string {
  return `${terminalSafeJson(JSON.stringify(value, null, 2))}\n`;
}

function short(oid: string): string {
  return isZeroOid(oid) ? '(none)' : safeLine(oid.slice(0, 12));
}

function shortTime(iso: string): string {
  return safeLine(iso.replace(/\.\d{3}Z$/, 'Z'));
}

export function listText(entries: readonly EntrySummary[]): string {
  if (entries.length === 0) return 'no queue entries\n';
  const rows = entries.map((e) => [
    safeLine(e.id), `${safeLine(e.state)}${e.legacy ? ' (old layout)' : ''}`, safeLine(e.repository), safeLine(e.refs.join(',')), safeLine(e.pusher),
    `${e.approvals}/${e.required}`, shortTime(e.createdAt), safeLine(e.rules.join(',')),
  ]);
  const header = ['ID', 'STATE', 'REPOSITORY', 'REFS', 'PUSHER', 'APPROVALS', 'PARKED', 'RULES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function identityText(who: QueueIdentity): string {
  const parts = [
    who.keyId ? `key id ${safeLine(who.keyId)}` : '', who.certSerial ? `serial ${safeLine(who.certSerial)}` : '',
    who.sponsor ? `sponsored by ${safeLine(who.sponsor)}` : '', who.sessionId ? `session ${safeLine(who.sessionId)}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? safeLine(who.principal) : `${safeLine(who.principal)} (${parts.join(', ')})`;
}

export interface ShowOptions {
  /** The repository's path, for the command an administrator on the server runs; omitted for anyone else. */
  localGitDir?: string;
}

/** What `queue show` prints: everything a reviewer needs to decide, and how to look closer. */
export function showText(record: QueueRecord, requirements: Requirements, now: Date, options: ShowOptions = {}): string {
  const state = effectiveState(record, now);
  const out: string[] = [];
  const principal = (who: QueueIdentity): string => safeLine(who.principal);
  out.push(`queue entry ${safeLine(record.id)}: ${safeLine(state)}${state !== record.state ? ` (recorded as ${safeLine(record.state)})` : ''}`);
  out.push(`  repository  ${safeLine(record.repository)}`);
  out.push(`  pushed by   ${identityText(record.pusher)}${record.pusher.roles.length ? ` [${safeLine(record.pusher.roles.join(', '))}]` : ''}`);
  out.push(`  parked      ${shortTime(record.createdAt)}; expires ${shortTime(record.expiresAt)}`);
  if (record.reason) out.push(`  reason      ${safeLine(record.reason)}${record.reviewRequested ? ' (the pusher asked for review)' : ''}`);
  if (record.pushOptions.length) out.push(`  options     ${record.pushOptions.map(safeLine).join(' ')}`);
  out.push(`  approvals   ${record.approvals.length}/${requirements.approvals}${record.approvals.length ? `: ${record.approvals.map((a) => principal(a.by)).join(', ')}` : ''}; reviewers need ${safeLine(requirements.reviewerRoles.map((r) => r.join('|')).join(' and '))}`);
  out.push('', 'refs:');
  for (const u of record.updates) out.push(`  ${short(u.old)} -> ${short(u.new)}  ${safeLine(u.ref)}`);
  const s = record.stats;
  out.push('', `diff: ${s.commits} commit${s.commits === 1 ? '' : 's'}, ${s.files} file${s.files === 1 ? '' : 's'} changed, ${s.insertions} insertion${s.insertions === 1 ? '' : 's'}(+), ${s.deletions} deletion${s.deletions === 1 ? '' : 's'}(-)`);
  if (record.commits.length) {
    out.push('', 'commits:');
    for (const c of record.commits) out.push(`  ${short(c.oid)} ${safeLine(c.subject)}${c.author ? `  (${safeLine(c.author)})` : ''}`);
    if (s.commits > record.commits.length) out.push(`  … and ${s.commits - record.commits.length} more`);
  }
  out.push('', `findings (${record.findings.length}):`);
  for (const f of record.findings) {
    out.push(`  [${f.mode === 'audit' ? `audit, would ${safeLine(f.action)}` : safeLine(f.action)}] ${safeLine(f.ruleId)}: ${safeLine(f.title)}`);
    const at = [f.ref, f.commit?.slice(0, 12), f.path ? (f.line ? `${f.path}:${f.line}` : f.path) : undefined].filter(Boolean).map((p) => safeLine(String(p))).join(' ');
    if (at) out.push(`      at ${at}`);
    if (f.excerpt) out.push(`      value ${safeLine(f.excerpt)}${f.fingerprint ? ` (fingerprint ${safeLine(f.fingerprint)})` : ''}`);
    if (f.note) out.push(`      note: ${safeLine(f.note)}`);
  }
  out.push('', 'history:');
  for (const e of record.events) out.push(`  ${shortTime(e.at)} ${safeLine(e.type)}${e.by ? ` by ${principal(e.by)}` : ''}${e.comment ? `: ${safeLine(e.comment)}` : ''}${e.detail ? ` — ${safeLine(e.detail)}` : ''}`);
  const hints = fetchHints(record);
  if (hints.length > 0 && (state === 'pending' || state === 'approved')) {
    out.push('', 'look at the parked commits (in a clone of the repository whose origin is the gateway):');
    out.push(`  ${remoteFetchCommand(record)}`);
    for (const h of hints) out.push(`  git log -p ${short(h.oid)}        # ${safeLine(h.ref)} (refs/remotes/pushgate/${safeLine(record.id)}/${safeLine(h.ref.replace(/^refs\//, ''))})`);
    if (options.localGitDir !== undefined) out.push('  on the server itself:', `  ${localFetchCommand(options.localGitDir, record)}`);
  }
  return `${out.join('\n')}\n`;
}

/** One line: what `queue status` and `queue wait` print. */
export function statusText(record: QueueRecord, requirements: Requirements, now: Date): string {
  const state = effectiveState(record, now);
  const last = record.events.at(-1);
  let tail = '';
  if (state === 'pending' || state === 'approved') tail = `; ${record.approvals.length}/${requirements.approvals} approvals; expires ${shortTime(record.expiresAt)}`;
  else if (state === 'expired') tail = `; expired at ${shortTime(record.expiresAt)}; push again to ask for review anew`;
  else if (last && (state === 'rejected' || state === 'stale')) tail = `${last.by ? ` by ${safeLine(last.by.principal)}` : ''}: ${safeLine(last.detail ?? '')}`;
  else if (state === 'applied') tail = `; ${record.updates.map((u) => `${safeLine(u.ref)} -> ${short(u.new)}`).join(', ')}`;
  return `${safeLine(record.id)} ${safeLine(record.repository)}: ${state}${tail}\n`;
}
