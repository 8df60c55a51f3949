/**
 * What authentication trusts: CA public keys, the KRL (re-read when it
 * changes) and the optional break-glass key list. Built from a config; a
 * reload builds a new one and keeps the old one if that fails.
 */
import { readFileSync } from 'node:fs';
import type { PushgateConfig, TrustedCaKey } from '../config/index.js';
import { parseKrl, parsePublicKeyLine, type PublicKey, type RevocationChecker } from '../sshcert/index.js';
import { WatchedFile, type Loaded } from './watched-file.js';

const KEY_TYPES = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);

function isKeyType(token: string): boolean {
  return KEY_TYPES.has(token);
}

export class TrustError extends Error {
  override name = 'TrustError';
}

interface KeyLines {
  keys: PublicKey[];
  /** Lines that were skipped, with why. */
  skipped: string[];
}

/**
 * Keys of an authorized_keys-style text. Lines with options are skipped:
 * an option pushgate does not enforce must not silently widen access.
 */
export function parseKeyLines(text: string, what: string): KeyLines {
  const result: KeyLines = { keys: [], skipped: [] };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const tokens = line.split(/\s+/);
    const at = tokens.findIndex((token) => isKeyType(token));
    if (at !== 0) {
      result.skipped.push(`${what} line ${index + 1}: ${at > 0 ? 'key options are not supported' : 'not a supported public key'}`);
      return;
    }
    try {
      result.keys.push(parsePublicKeyLine(`${tokens[0]} ${tokens[1] ?? ''}`, `${what} line ${index + 1}`));
    } catch (error) {
      result.skipped.push(`${what} line ${index + 1}: ${(error as Error).message}`);
    }
  });
  return result;
}

export function loadTrustedCAs(entries: readonly TrustedCaKey[]): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const entry of entries) {
    let text: string;
    let what: string;
    if (entry.kind === 'file') {
      what = `trusted CA file ${entry.path}`;
      try {
        text = readFileSync(entry.path, 'utf8');
      } catch (error) {
        throw new TrustError(`${what}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message}`);
      }
    } else {
      what = 'inline trusted CA key';
      text = entry.line;
    }
    const parsed = parseKeyLines(text, what);
    if (parsed.skipped.length > 0) throw new TrustError(parsed.skipped.join('; '));
    if (parsed.keys.length === 0) throw new TrustError(`${what} holds no public key`);
    keys.push(...parsed.keys);
  }
  return keys;
}

export class Trust {
  readonly cas: readonly PublicKey[];
  readonly #krl: WatchedFile<RevocationChecker> | null;
  readonly #breakGlass: WatchedFile<KeyLines> | null;

  /** Throws TrustError when the CA keys cannot be used. */
  constructor(config: PushgateConfig) {
    this.cas = loadTrustedCAs(config.ca.trusted);
    this.#krl = config.ca.krl === null ? null : new WatchedFile(config.ca.krl, parseKrl);
    const breakGlass = config.ssh.breakGlassKeys;
    this.#breakGlass = breakGlass === null ? null : new WatchedFile(breakGlass, (bytes) => parseKeyLines(bytes.toString('utf8'), breakGlass));
  }

  /** The KRL, or an error when one is configured but unusable (authentication then fails closed, as in sshd). */
  revocation(): Loaded<RevocationChecker | null> {
    return this.#krl === null ? { ok: true, value: null } : this.#krl.get();
  }

  /** Break-glass keys; null when the list is off. */
  breakGlassKeys(): Loaded<KeyLines> | null {
    return this.#breakGlass === null ? null : this.#breakGlass.get();
  }

  /** Problems an operator should see now rather than at the first login. */
  check(): string[] {
    const problems: string[] = [];
    const krl = this.revocation();
    if (!krl.ok) problems.push(`KRL unusable, every certificate login is refused until it is fixed: ${krl.error}`);
    const glass = this.breakGlassKeys();
    if (glass !== null && !glass.ok) problems.push(`break-glass keys unusable: ${glass.error}`);
    if (glass !== null && glass.ok) problems.push(...glass.value.skipped);
    return problems;
  }
}
