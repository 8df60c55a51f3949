import type { Decision, Finding } from '../policy/index.js';
import { escapeControl, safeLine, terminalSafeJson } from '../text/index.js';

export interface ResultReport {
  decision: Decision;
  repository: string;
  findings: Finding[];
  reason?: string;
  queueId?: string;
  /** Shown when the push parked: how to wait for the reviewer. */
  waitCommand?: string;
  /** The push could not be evaluated at all (bad config, bad input, crash). */
  error?: string;
}

/** Shown in full in the human block; the JSON line always carries every finding. */
const SHOWN = 20;

function label(f: Finding): string {
  return f.mode === 'audit' ? `audit (would ${f.action})` : f.action;
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.ref) parts.push(f.ref);
  if (f.commit) parts.push(f.commit.slice(0, 12));
  if (f.path) parts.push(f.line ? `${f.path}:${f.line}` : f.path);
  return parts.join(' ');
}

const HEADLINES: Record<Decision, string> = {
  allow: 'push accepted',
  park: 'push PARKED for review: nothing was updated yet',
  deny: 'push DENIED: nothing was updated',
};

/**
 * A finding as it may be shown: every text that can carry what a pusher
 * wrote (a ref name, a path, a commit subject in a title, a note) masked like
 * an excerpt and with its control characters shown as escapes, so no
 * terminal sequence, line break or credential reaches the pusher's (or a
 * reviewer's) screen from the hook.
 */
function shown(f: Finding): Finding {
  const out: Finding = { ...f, ruleId: escapeControl(f.ruleId), title: safeLine(f.title), fix: safeLine(f.fix) };
  if (f.ref !== undefined) out.ref = safeLine(f.ref);
  if (f.commit !== undefined) out.commit = escapeControl(f.commit);
  if (f.path !== undefined) out.path = safeLine(f.path);
  if (f.excerpt !== undefined) out.excerpt = safeLine(f.excerpt);
  if (f.fingerprint !== undefined) out.fingerprint = escapeControl(f.fingerprint);
  if (f.note !== undefined) out.note = safeLine(f.note);
  return out;
}

export function jsonLine(value: unknown): string {
  return terminalSafeJson(JSON.stringify(value));
}

/** The content checks' notes, one line each, made safe like findings. */
export function formatNotes(notes: readonly string[]): string {
  return notes.map((n) => `pushgate: note: ${safeLine(n)}\n`).join('');
}

/**
 * What the pusher sees: a short block for people, then exactly one
 * `pushgate-result:` line of JSON for agents. Every text is shown through
 * `shown` / safeLine: the hook's output passes git's `remote: ` prefix to the
 * pusher's terminal as it is.
 */
export function formatReport(unsafe: ResultReport): string {
  const report: ResultReport = {
    ...unsafe,
    repository: escapeControl(unsafe.repository),
    findings: unsafe.findings.map(shown),
    ...(unsafe.reason !== undefined ? { reason: safeLine(unsafe.reason) } : {}),
    ...(unsafe.error !== undefined ? { error: safeLine(unsafe.error) } : {}),
    ...(unsafe.queueId !== undefined ? { queueId: escapeControl(unsafe.queueId) } : {}),
    ...(unsafe.waitCommand !== undefined ? { waitCommand: safeLine(unsafe.waitCommand) } : {}),
  };
  const lines: string[] = [];
  const enforced = report.findings.filter((f) => f.mode === 'enforce').length;
  const audit = report.findings.length - enforced;
  if (report.decision !== 'allow' || report.findings.length > 0) {
    lines.push(`pushgate: ${HEADLINES[report.decision]}${report.findings.length ? ` (${enforced} finding${enforced === 1 ? '' : 's'}${audit ? `, ${audit} audit-only` : ''})` : ''}`);
  }
  if (report.error && report.findings.length === 0) lines.push(`  error: ${report.error}`);
  for (const f of report.findings.slice(0, SHOWN)) {
    lines.push(`  [${label(f)}] ${f.ruleId}: ${f.title}`);
    const at = where(f);
    if (at) lines.push(`      at ${at}`);
    if (f.excerpt) lines.push(`      value ${f.excerpt}${f.fingerprint ? ` (fingerprint ${f.fingerprint})` : ''}`);
    if (f.note) lines.push(`      note: ${f.note}`);
    lines.push(`      fix: ${f.fix}`);
  }
  if (report.findings.length > SHOWN) lines.push(`  … and ${report.findings.length - SHOWN} more in the pushgate-result line`);
  if (report.queueId) lines.push(`  queue id: ${report.queueId}`);
  if (report.waitCommand) lines.push(`  wait for the decision: ${report.waitCommand}`);
  const json = {
    decision: report.decision,
    repository: report.repository,
    ...(report.queueId ? { queueId: report.queueId } : {}),
    ...(report.waitCommand ? { wait: report.waitCommand } : {}),
    ...(report.reason ? { reason: report.reason } : {}),
    ...(report.error ? { error: report.error } : {}),
    findings: report.findings.map((f) => ({
      rule: f.ruleId, action: f.action, mode: f.mode, title: f.title,
      ...(f.ref ? { ref: f.ref } : {}), ...(f.commit ? { commit: f.commit } : {}),
      ...(f.path ? { path: f.path } : {}), ...(f.line ? { line: f.line } : {}),
      ...(f.excerpt ? { excerpt: f.excerpt } : {}), ...(f.fingerprint ? { fingerprint: f.fingerprint } : {}),
      ...(f.note ? { note: f.note } : {}), fix: f.fix,
    })),
  };
  lines.push(`pushgate-result: ${jsonLine(json)}`);
  return `${lines.join('\n')}\n`;
}
