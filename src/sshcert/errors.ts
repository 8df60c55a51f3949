/**
 * Every failure of the certificate library is a CertError with a stable code.
 * Callers (gateway, CLI, audit) switch on `code`; `message` is for people.
 */
export type CertErrorCode =
  | 'cert.malformed'
  | 'cert.unsupported-key'
  | 'cert.untrusted-ca'
  | 'cert.bad-signature'
  | 'cert.expired'
  | 'cert.not-yet-valid'
  | 'cert.principal'
  | 'cert.source-address'
  | 'cert.critical-option'
  | 'cert.revoked'
  | 'cert.type'
  | 'cert.weak-algorithm'
  | 'key.malformed'
  | 'key.unsupported'
  | 'key.encrypted'
  | 'krl.malformed';

export class CertError extends Error {
  readonly code: CertErrorCode;

  constructor(code: CertErrorCode, message: string) {
    super(message);
    this.name = 'CertError';
    this.code = code;
  }
}

export function isCertError(value: unknown): value is CertError {
  return value instanceof CertError;
}
