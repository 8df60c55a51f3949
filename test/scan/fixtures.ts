import { base62, crc32 } from '../../src/scan/checksum.js';
import { seededRandom } from '../helpers/prng.js';

/**
 * Credential-shaped strings are assembled at run time from a seeded PRNG, so
 * the repository never contains a literal that a secret scanner would flag.
 */
export class Rng {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  str(length: number, alphabet: string = ALNUM): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.str(length, HEX);
  }

  digits(length: number): string {
    return String(1 + this.int(9)) + this.str(length - 1, DIGITS);
  }

  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const HEX = '0123456789abcdef';
export const B64 = ALNUM + '+/';
export const B64URL = ALNUM + '-_';
export const BASE32 = UPPER + '234567';

/** A GitHub-style token with a correct CRC-32 checksum (GitHub and npm share the scheme). */
export function checksummedToken(rng: Rng, prefix: string): string {
  const body = rng.str(30);
  return prefix + body + base62(crc32(body), 6);
}

export const gh = (rng: Rng, kind = 'p'): string => checksummedToken(rng, 'gh' + kind + '_');
export const npmToken = (rng: Rng): string => checksummedToken(rng, 'np' + 'm_');

/** The same token with its checksum broken. */
export function breakChecksum(token: string): string {
  const last = token[token.length - 1]!;
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}

export const awsKeyId = (rng: Rng, prefix = 'AK' + 'IA'): string => prefix + rng.str(16, BASE32);
export const awsSecret = (rng: Rng): string => rng.str(40, B64);

export function pemBegin(kind: string): string {
  return `${'-'.repeat(5)}BEGIN ${kind}${kind === '' ? '' : ' '}PRIV` + `ATE KEY${'-'.repeat(5)}`;
}

export function pemLine(kind: string, label: string): string {
  return `${'-'.repeat(5)}${kind} ${label}${'-'.repeat(5)}`;
}

const b64url = (value: string): string => Buffer.from(value).toString('base64url');

export function jwt(rng: Rng, header: object, payload: object): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${rng.str(43, B64URL)}`;
}

export function slackBot(rng: Rng): string {
  return `xox${'b'}-${rng.digits(12)}-${rng.digits(13)}-${rng.str(24)}`;
}
