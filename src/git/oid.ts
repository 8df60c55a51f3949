/** Object ids: SHA-1 repositories use 40 hex digits, SHA-256 ones 64. */
export type ObjectFormat = 'sha1' | 'sha256';

export const ZERO_OID = '0'.repeat(40);
export const ZERO_OID_SHA256 = '0'.repeat(64);

export function zeroOid(format: ObjectFormat = 'sha1'): string {
  return format === 'sha256' ? ZERO_OID_SHA256 : ZERO_OID;
}

/** The all-zero id git uses for "no object" (a created or deleted ref), in either format. */
export function isZeroOid(oid: string): boolean {
  return (oid.length === 40 || oid.length === 64) && /^0+$/.test(oid);
}

/** A full object id in either format (lower-case hex, as git prints it). */
export function isFullOid(value: string): boolean {
  return (value.length === 40 || value.length === 64) && /^[0-9a-f]+$/.test(value);
}
