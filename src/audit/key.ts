import { readFileSync } from 'node:fs';
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
