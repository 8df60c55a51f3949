import { readFileSync } from 'node:fs';
import type { PushgateConfig } from '../config/index.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../sshcert/index.js';

/**
 * The trusted CA public keys, one `<type> <base64> <comment>` line each: the
 * format of sshd's `TrustedUserCAKeys`. Lines that are not keys are left out.
 */
export function trustedCaText(config: PushgateConfig): string {
  const lines: string[] = [];
  for (const entry of config.ca.trusted) {
    const text = entry.kind === 'file' ? readFileSync(entry.path, 'utf8') : entry.line;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      try {
        const key = parsePublicKeyLine(line, 'trusted CA key');
        lines.push(formatPublicKeyLine(key, key.comment));
      } catch {
        // Not a key line: sshd would skip it too.
      }
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}
