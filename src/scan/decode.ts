/**
 * Values that look base64 or hex encoded, decoded once so the rules can see
 * what they hide (Kubernetes secrets, CI variables, "obfuscated" tokens).
 * Only plausible sizes are tried, and only text that decodes to printable
 * ASCII is kept: binary (hashes, keys, images) is never rescanned.
 */

/** Shorter encoded values cannot hold a credential any rule recognises. */
export const MIN_ENCODED_LENGTH = 24;
const MAX_ENCODED_LENGTH = 8192;
const MIN_HEX_LENGTH = 32;
const MIN_DECODED_BYTES = 16;
const MAX_VALUES_PER_LINE = 16;

export interface EncodedValue {
  /** 0-based [start, end) of the encoded text in the line. */
  start: number;
  end: number;
  encoding: 'base64' | 'hex';
  decoded: string;
}

const CANDIDATE = new RegExp(`[A-Za-z0-9+/_-]{${MIN_ENCODED_LENGTH},${MAX_ENCODED_LENGTH}}={0,2}`, 'g');
const HEX = /^[0-9a-fA-F]+$/;
const DIGEST_PREFIX = /^sha(?:1|224|256|384|512)-/i;
const DIGEST_BEFORE = /(?:sha(?:1|224|256|384|512)|md5):$/i;

/** Encoded values in `line` that decode to text, looking from offset `from` on. */
export function findEncoded(line: string, from = 0): EncodedValue[] {
  const found: EncodedValue[] = [];
  CANDIDATE.lastIndex = from;
  let match: RegExpExecArray | null;
  while ((match = CANDIDATE.exec(line)) !== null && found.length < MAX_VALUES_PER_LINE) {
    const text = match[0];
    const start = match.index;
    if (DIGEST_PREFIX.test(text) || DIGEST_BEFORE.test(line.slice(Math.max(0, start - 7), start))) continue;
    const value = decode(text);
    if (value !== null) found.push({ start, end: start + text.length, ...value });
  }
  return found;
}

function decode(text: string): { encoding: 'base64' | 'hex'; decoded: string } | null {
  if (text.length >= MIN_HEX_LENGTH && text.length % 2 === 0 && HEX.test(text)) {
    const decoded = printable(Buffer.from(text, 'hex'));
    return decoded === null ? null : { encoding: 'hex', decoded };
  }
  const body = text.replace(/=+$/, '');
  // Mixed alphabets or an impossible length are not base64.
  if (body.length % 4 === 1 || (/[+/]/.test(body) && /[-_]/.test(body))) return null;
  const decoded = printable(Buffer.from(body, 'base64'));
  return decoded === null ? null : { encoding: 'base64', decoded };
}

function printable(bytes: Buffer): string | null {
  if (bytes.length < MIN_DECODED_BYTES) return null;
  for (const byte of bytes) {
    if ((byte < 0x20 || byte > 0x7e) && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return null;
  }
  return bytes.toString('latin1');
}
