/**
 * What sshd's `ExposeAuthInfo yes` tells a session: the file named by
 * `$SSH_USER_AUTH`, one line per successful authentication method, e.g.
 * `publickey ssh-ed25519-cert-v01@openssh.com AAAA…`.
 */
import { readFileSync } from 'node:fs';

const CERT_SUFFIX = '-cert-v01@openssh.com';
/** A few certificates' worth; sshd writes one line per method. */
export const MAX_AUTH_INFO_BYTES = 256 * 1024;

export type OfferedKey =
  | { kind: 'certificate'; algorithm: string; blob: Buffer }
  | { kind: 'key'; algorithm: string; blob: Buffer };

export type AuthInfoResult =
  | { ok: true; key: OfferedKey }
  | { ok: false; code: string; message: string };

function failure(code: string, message: string): AuthInfoResult {
  return { ok: false, code, message };
}

/** The public keys the file lists, in order; other methods (password, …) carry no key and are skipped. */
export function publicKeysOf(text: string): OfferedKey[] {
  const keys: OfferedKey[] = [];
  for (const line of text.split('\n')) {
    const [method, algorithm, data] = line.trim().split(/\s+/);
    if (method !== 'publickey' || algorithm === undefined || data === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) continue;
    const blob = Buffer.from(data, 'base64');
    keys.push({ kind: algorithm.endsWith(CERT_SUFFIX) ? 'certificate' : 'key', algorithm, blob });
  }
  return keys;
}

/**
 * The key that logged the session in: its only certificate, or else its
 * only plain key. Anything else (no key, several different ones) is refused
 * rather than guessed at.
 */
export function chooseKey(keys: readonly OfferedKey[]): AuthInfoResult {
  const certificates = distinct(keys.filter((k) => k.kind === 'certificate'));
  if (certificates.length > 1) return failure('shell.auth-info', 'the session was authenticated with several certificates; pushgate cannot tell which one to use');
  if (certificates.length === 1) return { ok: true, key: certificates[0]! };
  const plain = distinct(keys);
  if (plain.length === 0) return failure('shell.no-certificate', 'the session was not authenticated with a public key; log in with a certificate from a trusted CA');
  if (plain.length > 1) return failure('shell.auth-info', 'the session was authenticated with several keys; pushgate cannot tell which one to use');
  return { ok: true, key: plain[0]! };
}

function distinct(keys: readonly OfferedKey[]): OfferedKey[] {
  const seen: OfferedKey[] = [];
  for (const key of keys) if (!seen.some((k) => k.blob.equals(key.blob))) seen.push(key);
  return seen;
}

/** Reads and interprets the `$SSH_USER_AUTH` file. */
export function readAuthInfo(path: string | undefined): AuthInfoResult {
  if (path === undefined || path === '') {
    return failure('shell.no-auth-info', 'SSH_USER_AUTH is not set: pushgate shell runs only as the ForceCommand of sshd with ExposeAuthInfo yes');
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return failure('shell.no-auth-info', `the SSH_USER_AUTH file cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (bytes.length > MAX_AUTH_INFO_BYTES) return failure('shell.auth-info', 'the SSH_USER_AUTH file is too large');
  return chooseKey(publicKeysOf(bytes.toString('latin1')));
}
