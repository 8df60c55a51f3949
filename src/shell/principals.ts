/**
 * `AuthorizedPrincipalsCommand` for sshd: the principal a certificate may
 * log in as, printed only when pushgate's own rules accept the certificate
 * (trusted CA, KRL, validity window, critical options) and the login is the
 * service user. sshd gives the command no client address, so source-address
 * is left to sshd here; `pushgate shell` checks it again with the address.
 */
import type { PushgateConfig } from '../config/index.js';
import type { Trust } from '../gateway/trust.js';
import { reservedPrincipalRefusal } from '../gateway/auth.js';
import { sponsorFromExtensions } from '../identity/extensions.js';
import { choosePrincipal, isUsablePrincipal } from '../identity/identity.js';
import { fingerprint, isCertError, parseCertificate, verifyCertificate, type Certificate } from '../sshcert/index.js';

export type PrincipalsDecision =
  | { ok: true; principal: string; certificate: Certificate }
  | { ok: false; code: string; message: string; certificate?: Certificate };

export interface PrincipalsRequest {
  /** %u */
  user: string;
  /** %t */
  type: string;
  /** %k: base64 of the certificate. */
  key: string;
}

export function principalsFor(request: PrincipalsRequest, context: { config: PushgateConfig; trust: Trust; now?: Date }): PrincipalsDecision {
  const { config } = context;
  if (!request.type.endsWith('-cert-v01@openssh.com')) return { ok: false, code: 'auth.plain-key', message: `${request.type.slice(0, 64)} is not a certificate` };
  let cert: Certificate;
  try {
    cert = parseCertificate(Buffer.from(request.key, 'base64'));
  } catch (error) {
    return { ok: false, code: isCertError(error) ? error.code : 'cert.malformed', message: (error as Error).message };
  }
  if (cert.certType !== request.type) return { ok: false, code: 'cert.malformed', message: `sshd says ${request.type.slice(0, 64)} but the key is a ${cert.certType}`, certificate: cert };
  if (request.user !== config.serviceUser) {
    return { ok: false, code: 'auth.user', message: `pushgate answers for ${config.serviceUser} only, not ${JSON.stringify(request.user.slice(0, 64))}`, certificate: cert };
  }
  const revocation = context.trust.revocation();
  if (!revocation.ok) return { ok: false, code: 'krl.unusable', message: `the revocation list cannot be read, so no certificate is accepted: ${revocation.error}`, certificate: cert };
  const withoutAddress: Certificate = { ...cert, criticalOptions: cert.criticalOptions.filter((o) => o.name !== 'source-address') };
  try {
    verifyCertificate(withoutAddress, {
      trustedCAs: context.trust.cas,
      now: context.now ?? new Date(),
      clockSkewSeconds: Math.floor(config.ca.clockSkew / 1000),
      ...(revocation.value !== null ? { revocation: revocation.value } : {}),
    });
  } catch (error) {
    if (isCertError(error)) return { ok: false, code: error.code, message: error.message, certificate: cert };
    throw error;
  }
  const reserved = reservedPrincipalRefusal(cert.principals, sponsorFromExtensions(cert.extensions, config.identity.sponsorExtension));
  if (reserved !== null && !reserved.ok) return { ok: false, code: reserved.code, message: reserved.message, certificate: cert };
  const principal = choosePrincipal(cert.principals, request.user);
  if (principal === undefined || !isUsablePrincipal(principal)) {
    return { ok: false, code: 'cert.principal', message: 'the certificate\'s principal contains spaces, commas or control characters', certificate: cert };
  }
  return { ok: true, principal, certificate: cert };
}

/** What the audit log records about the offered certificate. */
export function describeOffer(cert: Certificate | undefined): { principal?: string; keyId?: string; certSerial?: string; keyFingerprint?: string } {
  if (cert === undefined) return {};
  return {
    ...(cert.principals[0] !== undefined ? { principal: cert.principals[0] } : {}),
    keyId: cert.keyId,
    certSerial: cert.serial.toString(),
    keyFingerprint: fingerprint(cert.publicKey.blob),
  };
}
