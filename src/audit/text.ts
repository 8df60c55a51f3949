import { escapeControl } from '../text/escape.js';
import type { AuditIdentity, AuditRecord } from './types.js';

/*
 * Every string of a record may have come from a pusher, a commit or a
 * certificate (a ref name, a path, a reason, a key id), and whoever can write
 * the log file can put anything in it: nothing of a record reaches a terminal
 * without its control characters shown as visible escapes.
 */

/** Hostile one-line text for a terminal. */
const safe = escapeControl;


export interface RecordTextOptions {
  /** Each identity with its key id, certificate serial and address, not only its principal. */
  verbose?: boolean;
}

function who(identity: AuditIdentity | undefined, verbose: boolean): string | undefined {
  if (identity === undefined) return undefined;
  const principal = identity.principal ?? '?';
  if (!verbose) return safe(principal);
  const details = [identity.keyId && `key ${identity.keyId}`, identity.certSerial && `serial ${identity.certSerial}`, identity.clientAddress && `from ${identity.clientAddress}`]
    .filter(Boolean);
  return safe(details.length > 0 ? `${principal} (${details.join(', ')})` : principal);
}

function short(oid: string): string {
  return /^[0-9a-f]{40,64}$/.test(oid) ? oid.slice(0, 10) : safe(oid);
}

/**
 * Who did what a record tells. A queue transition made by a person (approve,
 * reject, and the apply or stale that an approval causes) carries the
 * reviewer, who acted, and the identity of the push, which is its subject;
 * every other record's actor is its identity. Without either, the server.
 */
function actorOf(record: AuditRecord): { actor: AuditIdentity | undefined; subject: AuditIdentity | undefined } {
  if (record.reviewer !== undefined) return { actor: record.reviewer, subject: record.identity };
  return { actor: record.identity, subject: undefined };
}

/**
 * One record as a readable timeline entry: time and sequence, then the actor,
 * the action and what it was done to; then a line per ref update and finding.
 * Key ids, serials and addresses repeat on every record of a session, so only
 * --verbose shows them; the session id stays, for `audit show --session`.
 */
export function formatRecordText(record: AuditRecord, options: RecordTextOptions = {}): string {
  const verbose = options.verbose === true;
  const { actor, subject } = actorOf(record);
  const pushedBy = subject !== undefined && subject.principal !== actor?.principal ? who(subject, verbose) : undefined;
  const fields: [string, string | number | undefined][] = [
    ['repo', record.repository],
    ['queue', record.queueId],
    ['pushed-by', pushedBy],
    ['command', record.command],
    ['decision', record.decision],
    ['result', record.result],
    ['code', record.code],
    ['rules', record.rules?.join(',') || undefined],
    ['in', record.bytesIn],
    ['out', record.bytesOut],
    ['ms', record.durationMs],
    ['session', record.session],
  ];
  const parts = fields.filter(([, value]) => value !== undefined && value !== '').map(([name, value]) => `${name}=${safe(String(value))}`);
  const actorText = who(actor, verbose) ?? 'pushgate';
  const lines = [`${safe(record.time)}  #${record.seq}  ${actorText}  ${safe(record.type)}  ${parts.join('  ')}`.trimEnd()];
  if (record.reason !== undefined) lines.push(`    reason: ${safe(record.reason)}`);
  for (const update of record.refUpdates ?? []) lines.push(`    ${safe(update.ref)}  ${short(update.old)} → ${short(update.new)}`);
  for (const f of record.findings ?? []) {
    const where = [f.path !== undefined ? `${safe(f.path)}${f.line !== undefined ? `:${f.line}` : ''}` : undefined, f.commit && short(f.commit)].filter(Boolean).join(' @ ');
    const action = safe(f.mode === 'audit' ? `would ${f.action}` : f.action);
    lines.push(`    ${action}  ${safe(f.rule)}${where ? `  ${where}` : ''}${f.excerpt !== undefined ? `  ${safe(f.excerpt)}` : ''}`);
  }
  return lines.join('\n');
}
