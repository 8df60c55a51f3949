import { escapeControl, hasControl } from '../text/escape.js';
import type { AuditIdentity, AuditRecord } from './types.js';

/*
 * Every string of a record may have come from a pusher, a commit or a
 * certificate (a ref name, a path, a reason, a key id), and whoever can write
 * the log file can put anything in it: nothing of a record reaches a terminal
 * without its control characters shown as visible escapes.
 */

/** Hostile one-line text for a terminal. */
const safe = escapeControl;

/**
 * JSON text with every character a terminal would act on (C1 controls, DEL,
 * bidirectional overrides, line separators; JSON.stringify already escapes
 * C0) written as a \u escape: the same JSON value, harmless on a terminal.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[^\u0020-\u007e]/gu, (char) => (hasControl(char) ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : char));
}

function who(identity: AuditIdentity | undefined): string | undefined {
  if (identity === undefined) return undefined;
  const details = [identity.keyId && `key ${identity.keyId}`, identity.certSerial && `serial ${identity.certSerial}`, identity.clientAddress && `from ${identity.clientAddress}`]
    .filter(Boolean);
  const principal = identity.principal ?? '?';
  return safe(details.length > 0 ? `${principal} (${details.join(', ')})` : principal);
}

function short(oid: string): string {
  return /^[0-9a-f]{40,64}$/.test(oid) ? oid.slice(0, 10) : safe(oid);
}

/** One record as a readable timeline entry: a headline, then a line per ref update and finding. */
export function formatRecordText(record: AuditRecord): string {
  const fields: [string, string | number | undefined][] = [
    ['by', who(record.identity)],
    ['repo', record.repository],
    ['session', record.session],
    ['queue', record.queueId],
    ['reviewer', who(record.reviewer)],
    ['command', record.command],
    ['decision', record.decision],
    ['result', record.result],
    ['code', record.code],
    ['rules', record.rules?.join(',') || undefined],
    ['in', record.bytesIn],
    ['out', record.bytesOut],
    ['ms', record.durationMs],
  ];
  const parts = fields.filter(([, value]) => value !== undefined && value !== '').map(([name, value]) => `${name}=${safe(String(value))}`);
  const lines = [`${safe(record.time)}  #${record.seq}  ${safe(record.type).padEnd(15)}  ${parts.join('  ')}`];
  if (record.reason !== undefined) lines.push(`    reason: ${safe(record.reason)}`);
  for (const update of record.refUpdates ?? []) lines.push(`    ${safe(update.ref)}  ${short(update.old)} → ${short(update.new)}`);
  for (const f of record.findings ?? []) {
    const where = [f.path !== undefined ? `${safe(f.path)}${f.line !== undefined ? `:${f.line}` : ''}` : undefined, f.commit && short(f.commit)].filter(Boolean).join(' @ ');
    const action = safe(f.mode === 'audit' ? `would ${f.action}` : f.action);
    lines.push(`    ${action}  ${safe(f.rule)}${where ? `  ${where}` : ''}${f.excerpt !== undefined ? `  ${safe(f.excerpt)}` : ''}`);
  }
  return lines.join('\n');
}
