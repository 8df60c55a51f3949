/**
 * What the upstream or git says goes to pushers, reviewers and logs only
 * after this: URLs lose their userinfo, the configured token is replaced
 * wherever it appears (an upstream may echo it), every secret the content
 * rules know is masked, and control characters are escaped.
 */
import { readFileSync } from 'node:fs';
import type { UpstreamConfig } from '../config/index.js';
import { safeBlock, safeLine } from '../text/index.js';

/** `https://user:token@git.example.com/x` → `https://***@git.example.com/x`; also in free text. */
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

/** The configured token and URL userinfo out; safeLine/safeBlock then mask what the content rules know and escape. */
function scrub(text: string, upstream: UpstreamConfig | undefined): string {
  const token = tokenOf(upstream);
  return maskUrls(token === undefined ? text : text.split(token).join('***'));
}

/** One line for a terminal, a log or a record. */
export function redactLine(text: string, upstream?: UpstreamConfig): string {
  return safeLine(scrub(text, upstream));
}

/** Several lines (an upstream hook's message). */
export function redactBlock(text: string, upstream?: UpstreamConfig): string {
  return safeBlock(scrub(text, upstream));
}
