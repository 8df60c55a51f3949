import type { AuditIdentity, AuditRecord } from './types.js';

function who(identity: AuditIdentity | undefined): string | undefined {
  if (identity === undefined) return undefined;
  const details = [identity.keyId && `key ${identity.keyId}`, identity.certSerial && `serial ${identity.certSerial}`, identity.clientAddress && `from ${identity.clientAddress}`]
    .filter(Boolean);
  const principal = identity.principal ?? '?';
  return details.length > 0 ? `${principal} (${details.join(', ')})` : principal;
}

function short(oid: string): string {
  return /^[0-9a-f]{40,64}$/.test(oid) ? oid.slice(0, 10) : oid;
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
  const parts = fields.filter(([, value]) => value !== undefined && value !== '').map(([name, value]) => `${name}=${value}`);
  const lines = [`${record.time}  #${record.seq}  ${record.type.padEnd(15)}  ${parts.join('  ')}`];
  if (record.reason !== undefined) lines.push(`    reason: ${record.reason}`);
  for (const update of record.refUpdates ?? []) lines.push(`    ${update.ref}  ${short(update.old)} → ${short(update.new)}`);
  for (const f of record.findings ?? []) {
    const where = [f.path !== undefined ? `${f.path}${f.line !== undefined ? `:${f.line}` : ''}` : undefined, f.commit && short(f.commit)].filter(Boolean).join(' @ ');
    const action = f.mode === 'audit' ? `would ${f.action}` : f.action;
    lines.push(`    ${action}  ${f.rule}${where ? `  ${where}` : ''}${f.excerpt !== undefined ? `  ${f.excerpt}` : ''}`);
  }
  return lines.join('\n');
}
