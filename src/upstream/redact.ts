/**
 * What the upstream or git says goes to pushers, reviewers and logs only
 * after this: URLs lose their userinfo, the configured token is replaced
 * wherever it appears (an upstream may echo it), every secret the content
 * rules know is masked, and control characters are escaped.
 */
import { readFileSync } from 'node:fs';
import type { UpstreamConfig } from '../config/index.js';
import { escapeControl, escapeControlKeepNewlines, maskText } from '../text/index.js';

/** `https://user:token@host/x` → `https://***@host/x`; also in free text. */
export function maskUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}

/** The token as the helper would send it; read only to scrub it from text, never stored. */
function tokenOf(upstream: UpstreamConfig | undefined): string | undefined {
  if (upstream?.tokenFile === undefined) return undefined;
  try {
    const token = readFileSync(upstream.tokenFile, 'utf8').trim();
    return token.length >= 4 ? token : undefined;
  } catch {
    return undefined;
  }
}

function scrub(text: string, upstream: UpstreamConfig | undefined): string {
  const token = tokenOf(upstream);
  const withoutToken = token === undefined ? text : text.split(token).join('***');
  return maskText(maskUrls(withoutToken));
}

/** One line for a terminal, a log or a record. */
export function redactLine(text: string, upstream?: UpstreamConfig): string {
  return escapeControl(scrub(text, upstream));
}

/** Several lines (an upstream hook's message). */
export function redactBlock(text: string, upstream?: UpstreamConfig): string {
  return escapeControlKeepNewlines(scrub(text, upstream));
}
