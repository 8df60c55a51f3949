import { SecretScanner } from '../scan/scanner.js';
import { maskLine } from '../scan/mask.js';

let scanner: SecretScanner | undefined;

/**
 * Free text (a push option, a commit subject, a rejection reason, a tag
 * annotation) with every secret the content rules would find replaced by its
 * mask: the same rules and the same mask as findings, so what pushgate stores
 * or prints never holds a credential in plaintext. No allowlist applies here:
 * an allowlisted value is still not written down.
 */
export function maskText(text: string, path = 'text'): string {
  if (text === '') return text;
  scanner ??= new SecretScanner();
  const lines = text.split('\n');
  let changed = false;
  const out = lines.map((line, i) => {
    const found = scanner!.scanLine(path, i + 1, line);
    if (found.length === 0) return line;
    changed = true;
    return maskLine(line, found);
  });
  return changed ? out.join('\n') : text;
}
