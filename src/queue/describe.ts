import { isZeroOid } from '../git/index.js';
import { fetchHints, localFetchCommand } from './fetch.js';
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
}

export function summarize(record: QueueRecord, requirements: Requirements, now: Date): EntrySummary {
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
  };
}

function short(oid: string): string {
  return isZeroOid(oid) ? '(none)' : oid.slice(0, 12);
}

function shortTime(iso: string): string {
  return iso.replace(/\.\d{3}Z$/, 'Z');
}

export function listText(entries: readonly EntrySummary[]): string {
  if (entries.length === 0) return 'no queue entries\n';
  const rows = entries.map((e) => [e.id, e.state, e.repository, e.refs.join(','), e.pusher, `${e.approvals}/${e.required}`, shortTime(e.createdAt), e.rules.join(',')]);
  const header = ['ID', 'STATE', 'REPOSITORY', 'REFS', 'PUSHER', 'APPROVALS', 'PARKED', 'RULES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function identityText(who: QueueIdentity): string {
  const parts = [
    who.keyId ? `key id ${who.keyId}` : '', who.certSerial ? `serial ${who.certSerial}` : '',
    who.sponsor ? `sponsored by ${who.sponsor}` : '', who.sessionId ? `session ${who.sessionId}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? who.principal : `${who.principal} (${parts.join(', ')})`;
}

/** What `queue show` prints: everything a reviewer needs to decide, and how to look closer. */
export function showText(record: QueueRecord, requirements: Requirements, now: Date): string {
  const state = effectiveState(record, now);
  const out: string[] = [];
  out.push(`queue entry ${record.id}: ${state}${state !== record.state ? ` (recorded as ${record.state})` : ''}`);
  out.push(`  repository  ${record.repository}`);
  out.push(`  pushed by   ${identityText(record.pusher)}${record.pusher.roles.length ? ` [${record.pusher.roles.join(', ')}]` : ''}`);
  out.push(`  parked      ${shortTime(record.createdAt)}; expires ${shortTime(record.expiresAt)}`);
  if (record.reason) out.push(`  reason      ${record.reason}${record.reviewRequested ? ' (the pusher asked for review)' : ''}`);
  if (record.pushOptions.length) out.push(`  options     ${record.pushOptions.join(' ')}`);
  out.push(`  approvals   ${record.approvals.length}/${requirements.approvals}${record.approvals.length ? `: ${record.approvals.map((a) => a.by.principal).join(', ')}` : ''}; reviewers need ${requirements.reviewerRoles.map((r) => r.join('|')).join(' and ')}`);
  out.push('', 'refs:');
  for (const u of record.updates) out.push(`  ${short(u.old)} -> ${short(u.new)}  ${u.ref}`);
  const s = record.stats;
  out.push('', `diff: ${s.commits} commit${s.commits === 1 ? '' : 's'}, ${s.files} file${s.files === 1 ? '' : 's'} changed, ${s.insertions} insertion${s.insertions === 1 ? '' : 's'}(+), ${s.deletions} deletion${s.deletions === 1 ? '' : 's'}(-)`);
  if (record.commits.length) {
    out.push('', 'commits:');
    for (const c of record.commits) out.push(`  ${c.oid.slice(0, 12)} ${c.subject}${c.author ? `  (${c.author})` : ''}`);
    if (s.commits > record.commits.length) out.push(`  … and ${s.commits - record.commits.length} more`);
  }
  out.push('', `findings (${record.findings.length}):`);
  for (const f of record.findings) {
    out.push(`  [${f.mode === 'audit' ? `audit, would ${f.action}` : f.action}] ${f.ruleId}: ${f.title}`);
    const at = [f.ref, f.commit?.slice(0, 12), f.path ? (f.line ? `${f.path}:${f.line}` : f.path) : undefined].filter(Boolean).join(' ');
    if (at) out.push(`      at ${at}`);
    if (f.excerpt) out.push(`      value ${f.excerpt}${f.fingerprint ? ` (fingerprint ${f.fingerprint})` : ''}`);
    if (f.note) out.push(`      note: ${f.note}`);
  }
  out.push('', 'history:');
  for (const e of record.events) out.push(`  ${shortTime(e.at)} ${e.type}${e.by ? ` by ${e.by.principal}` : ''}${e.comment ? `: ${e.comment}` : ''}${e.detail ? ` — ${e.detail}` : ''}`);
  const hints = fetchHints(record);
  if (hints.length > 0 && (state === 'pending' || state === 'approved')) {
    out.push('', 'look at the parked commits (in a clone of the repository):');
    for (const h of hints) out.push(`  ${h.byOid}        # ${h.ref}; then: git log -p ${h.oid.slice(0, 12)}`);
    out.push('  over the gateway, by name:');
    for (const h of hints) out.push(`  ${h.byName}`);
    out.push('  on the server, from a path or file:// remote:', `  ${localFetchCommand(record)}`);
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
  else if (last && (state === 'rejected' || state === 'stale')) tail = `${last.by ? ` by ${last.by.principal}` : ''}: ${last.detail ?? ''}`;
  else if (state === 'applied') tail = `; ${record.updates.map((u) => `${u.ref} -> ${short(u.new)}`).join(', ')}`;
  return `${record.id} ${record.repository}: ${state}${tail}\n`;
}
