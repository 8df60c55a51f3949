import { randomInt } from 'node:crypto';
import { base62, crc32 } from '../scan/checksum.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh token in GitHub's personal-access-token format, checksum included,
 * so the scanner treats it as real. It grants nothing anywhere.
 */
export function demoSecret(): string {
  let body = '';
  for (let i = 0; i < 30; i++) body += ALPHABET[randomInt(ALPHABET.length)];
  return ['gh', 'p_', body, base62(crc32(body), 6)].join('');
}
