import { createHash } from 'node:crypto';

/** Stable id of one secret under one rule, safe to store and allowlist: no plaintext. */
export function fingerprint(ruleId: string, secret: string): string {
  return createHash('sha256').update(`${ruleId}\0${secret}`).digest('hex').slice(0, 16);
}
