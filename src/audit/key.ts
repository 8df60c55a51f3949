import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { AuditError } from './errors.js';

/** Keys shorter than this are refused: they would make the HMAC chain guessable. */
export const MIN_KEY_BYTES = 16;

/** The HMAC key in `path`: the file's bytes without a trailing newline. */
export function readHmacKey(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    throw new AuditError('audit.key', `cannot read the audit HMAC key ${path}: ${(error as Error).message}`);
  }
  let end = data.length;
  while (end > 0 && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
  if (end < MIN_KEY_BYTES) {
    throw new AuditError('audit.key', `the audit HMAC key ${path} has ${end} bytes; use at least ${MIN_KEY_BYTES} (e.g. \`openssl rand -hex 32 > ${path}\`)`);
  }
  return data.subarray(0, end);
}

/** Bytes of a new key: HMAC-SHA256's block is 64 bytes; 32 random bytes are as strong as the hash. */
export const NEW_KEY_BYTES = 32;

/**
 * Writes a new random HMAC key (hex, mode 0600) to `path`; never replaces an
 * existing file: returns false when `path` exists. A key is what makes the
 * chain tamper-evident against whoever can write the log but not read the key.
 */
export function createHmacKey(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AuditError('audit.key', `cannot create the audit HMAC key ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, `${randomBytes(NEW_KEY_BYTES).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * What an operator should hear about a working audit config: a log without
 * an HMAC key is a plain SHA-256 chain that whoever can write the file can
 * recompute after changing or cutting records. `config check` and `serve`
 * print these.
 */
export function auditConfigWarnings(config: { hmacKeyFile: string | null }): string[] {
  if (config.hmacKeyFile !== null) return [];
  return [
    'audit.hmacKeyFile is null: the audit log is a plain SHA-256 chain that whoever can write the file can recompute after changing or cutting records; '
    + 'create a key with `pushgate audit init-key FILE` and set audit.hmacKeyFile before the log has records (a log is verified with one key)',
  ];
}
