export { escapeControl, escapeControlKeepNewlines, hasControl, terminalSafeJson } from './escape.js';
export { maskText } from './mask.js';

import { escapeControl, escapeControlKeepNewlines } from './escape.js';
import { maskText } from './mask.js';

/** Hostile one-line text for a terminal, a log or a record: secrets masked, then control characters escaped. */
export function safeLine(text: string): string {
  return escapeControl(maskText(text));
}

/** Hostile multi-line text (a commit message, an annotation): secrets masked, control characters other than newline escaped. */
export function safeBlock(text: string): string {
  return escapeControlKeepNewlines(maskText(text));
}
