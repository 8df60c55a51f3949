import { type Certificate, type CertOption, parseCertificate, stringOptionValue, USER_CERT } from './certificate.js';
import { CertError } from './errors.js';
import { fingerprint, type PublicKey } from './keys.js';
import { verifySignature } from './signature.js';
import { parseSourceAddressList } from './source-address.js';

/** Anything that can say whether a key or certificate is revoked (a KRL). */
export interface RevocationChecker {
  check(subject: { keyBlob: Buffer; caKeyBlob?: Buffer; serial?: bigint; keyId?: string }): { reason: string } | null;
}

export interface VerifyOptions {
  /** Trusted CA public keys; the certificate's signing key must equal one of them. */
  readonly trustedCAs: readonly PublicKey[];
  /** Defaults to the current time. */
  readonly now?: Date;
  /** Tolerated clock difference in seconds at both ends of the validity window. Default 0. */
  readonly clockSkewSeconds?: number;
  /** When given, the certificate must list this principal. */
  readonly principal?: string;
  /** The client's address; required when the certificate carries `source-address`. */
  readonly clientAddress?: string;
  readonly revocation?: RevocationChecker | readonly RevocationChecker[];
}

export interface VerifiedCertificate {
  readonly certificate: Certificate;
  readonly principals: readonly string[];
  readonly forceCommand?: string;
  readonly sourceAddress?: readonly string[];
  readonly extensions: readonly CertOption[];
  readonly keyFingerprint: string;
  readonly caFingerprint: string;
}

const KNOWN_CRITICAL_OPTIONS = new Set(['force-command', 'source-address']);

function epochSeconds(date: Date): bigint {
  return BigInt(Math.floor(date.getTime() / 1000));
}

function formatTime(seconds: bigint): string {
  if (seconds >= 253402300800n) return 'forever';
  return new Date(Number(seconds) * 1000).toISOString();
}

/**
 * Checks a user certificate the way sshd does for TrustedUserCAKeys: a plain
 * key of a trusted CA signed it, it is a user certificate, not revoked, within
 * its validity window, for the principal, with only critical options we
 * understand, and from an allowed source address. Throws CertError otherwise.
 */
export function verifyCertificate(input: Certificate | Buffer, options: VerifyOptions): VerifiedCertificate {
  const cert = Buffer.isBuffer(input) ? parseCertificate(input) : input;
  if (cert.type !== USER_CERT) {
    throw new CertError('cert.type', `this is a ${cert.type === 2 ? 'host' : `type-${cert.type}`} certificate; a user certificate is required`);
  }
  const caFingerprint = fingerprint(cert.signatureKeyBlob);
  if (!options.trustedCAs.some((ca) => ca.blob.equals(cert.signatureKeyBlob))) {
    throw new CertError('cert.untrusted-ca', `the certificate is signed by ${caFingerprint}, which is not a trusted CA`);
  }
  verifySignature(cert.signatureKey, cert.signedData, cert.signature, 'CA signature');
  checkRevocation(cert, options.revocation);
  checkValidity(cert, options.now ?? new Date(), BigInt(Math.max(0, Math.floor(options.clockSkewSeconds ?? 0))));
  if (cert.principals.length === 0) {
    throw new CertError('cert.principal', 'the certificate lists no principals; a certificate valid for anyone is refused');
  }
  if (options.principal !== undefined && !cert.principals.includes(options.principal)) {
    throw new CertError('cert.principal', `the certificate is not valid for principal ${JSON.stringify(options.principal)}`);
  }
  const { forceCommand, sourceAddress } = checkCriticalOptions(cert, options.clientAddress);
  return {
    certificate: cert,
    principals: cert.principals,
    ...(forceCommand !== undefined ? { forceCommand } : {}),
    ...(sourceAddress !== undefined ? { sourceAddress } : {}),
    extensions: cert.extensions,
    keyFingerprint: fingerprint(cert.publicKey.blob),
    caFingerprint,
  };
}

function checkRevocation(cert: Certificate, revocation: VerifyOptions['revocation']): void {
  const checkers = revocation === undefined ? [] : Array.isArray(revocation) ? revocation : [revocation as RevocationChecker];
  for (const krl of checkers) {
    const caRevoked = krl.check({ keyBlob: cert.signatureKeyBlob });
    if (caRevoked) throw new CertError('cert.revoked', `the signing CA key is revoked (${caRevoked.reason})`);
    const revoked = krl.check({ keyBlob: cert.publicKey.blob, caKeyBlob: cert.signatureKeyBlob, serial: cert.serial, keyId: cert.keyId });
    if (revoked) throw new CertError('cert.revoked', `the certificate is revoked (${revoked.reason})`);
  }
}

function checkValidity(cert: Certificate, now: Date, skew: bigint): void {
  const t = epochSeconds(now);
  if (t + skew < cert.validAfter) {
    throw new CertError('cert.not-yet-valid', `the certificate is not valid until ${formatTime(cert.validAfter)}`);
  }
  if (t - skew >= cert.validBefore) {
    throw new CertError('cert.expired', `the certificate expired at ${formatTime(cert.validBefore)}`);
  }
}

function checkCriticalOptions(cert: Certificate, clientAddress: string | undefined): { forceCommand?: string; sourceAddress?: string[] } {
  const result: { forceCommand?: string; sourceAddress?: string[] } = {};
  for (const option of cert.criticalOptions) {
    if (!KNOWN_CRITICAL_OPTIONS.has(option.name)) {
      throw new CertError('cert.critical-option', `the certificate carries the critical option ${JSON.stringify(option.name.slice(0, 64))}, which is not understood, so it cannot be honoured`);
    }
    let value: string;
    try {
      value = stringOptionValue(option);
    } catch {
      throw new CertError('cert.critical-option', `the critical option ${option.name} has malformed data`);
    }
    if (option.name === 'force-command') {
      result.forceCommand = value;
    } else {
      const list = parseSourceAddressList(value);
      if (clientAddress === undefined) {
        throw new CertError('cert.source-address', `the certificate is restricted to ${value} and no client address is known`);
      }
      if (!list.matches(clientAddress)) {
        throw new CertError('cert.source-address', `the certificate is restricted to ${value}; ${clientAddress} is not allowed`);
      }
      result.sourceAddress = [...list.entries];
    }
  }
  return result;
}

/**
 * Verifies the SSH `publickey` proof of possession: the client's signature
 * over the session data, made with the certified key. Refuses SHA-1 RSA.
 */
export function verifySessionSignature(cert: Certificate, signedData: Buffer, signature: Buffer): void {
  verifySignature(cert.publicKey, signedData, signature, 'session signature');
}
