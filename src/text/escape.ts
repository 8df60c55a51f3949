/**
 * Text that came from a pusher, a commit or a certificate, made safe to show
 * on a terminal or to write to a log: every control character is replaced by
 * a visible escape, so `ESC[8m` cannot hide what follows, OSC 52 cannot reach
 * a clipboard, and a carriage return cannot overwrite a line. Bidirectional
 * overrides and isolates (which reorder what a reader sees) and the Unicode
 * line separators are escaped too.
 *
 * Written here rather than taken from a library: the kept ones strip ANSI
 * sequences (strip-ansi) or escape for HTML; neither shows a reviewer that a
 * pusher tried to hide something, which is the point.
 */

/** C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, LS/PS, BOM. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;
// eslint-disable-next-line no-control-regex
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

function visible(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One line of hostile text: every control character, newline included, shown as an escape. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** Several lines of hostile text: newlines kept, every other control character shown as an escape. */
export function escapeControlKeepNewlines(text: string): string {
  return text.replace(UNSAFE_KEEP_NEWLINE, visible);
}

/** Whether `text` holds anything escapeControl would change. */
export function hasControl(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * What JSON.stringify leaves raw and a terminal acts on or hides: DEL, C1
 * controls (0x9b is a CSI on some terminals), bidi controls, zero-width and
 * invisible format characters, U+2028/2029, BOM. (C0 is escaped already.)
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** JSON text with those characters written as \u escapes: the same JSON value, harmless on a terminal. */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
