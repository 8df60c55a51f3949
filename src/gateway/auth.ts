/**
 * Public-key authentication decisions, independent of the SSH library:
 * OpenSSH user certificates from trusted CAs (checked completely before the
 * client is told its key is acceptable), the proof-of-possession signature,
 * and the optional break-glass keys.
 */
import type { PushgateConfig } from '../config/index.js';
import { identityFromBreakGlassKey, identityFromCertificate, isUsablePrincipal, type Identity } from '../identity/identity.js';
import { sponsorFromExtensions } from '../identity/extensions.js';
import { firstReservedPrincipal, isReservedPrincipal, reservedMessage } from '../identity/reserved.js';
import { escapeControl } from '../text/index.js';
import {
  fingerprint, isCertError, parseCertificate, parsePublicKeyBlob, signatureAlgorithm, verifyCertificate,
  verifySessionSignature, verifySignature, type Certificate, type PublicKey,
} from '../sshcert/index.js';
import type { Trust } from './trust.js';

const CERT_SUFFIX = '-cert-v01@openssh.com';

export interface KeyOffer {
  /** The SSH login name. */
  user: string;
  /** The public key algorithm the client names (`ssh-ed25519-cert-v01@openssh.com`, `rsa-sha2-256`, …). */
  algorithm: string;
  keyBlob: Buffer;
  clientAddress: string;
  /** Absent on the query that precedes the signed attempt. */
  signed?: SignedAttempt | undefined;
}

export interface SignedAttempt {
  /** Exactly what the client signed (session id, user, service, method, algorithm, key). */
  data: Buffer;
  /** The SSH signature blob (string algorithm, string bytes). */
  signature: Buffer;
  /**
   * For a plain key, a verifier supplied by the SSH library when it has
   * already unwrapped the signature blob; used instead of `signature`.
   */
  verifyPlain?: () => boolean;
}

/** What is known about a refused key, for the audit log. */
export interface OfferDescription {
  principal?: string;
  keyId?: string;
  certSerial?: string;
  keyFingerprint?: string;
  /**
   * The certificate's CA signature verified against a trusted CA: the refusal
   * concerns a certificate this server's CA issued (expired, revoked, wrong
   * address, …), not a key anyone could make up.
   */
  trusted?: boolean;
}

/** Refusals that verifyCertificate reports only after the CA signature verified. */
const AFTER_CA_SIGNATURE = new Set(['cert.revoked', 'cert.expired', 'cert.not-yet-valid', 'cert.principal', 'cert.critical-option', 'cert.source-address']);

export type AuthDecision =
  | { ok: true; identity: Identity; forceCommand?: string }
  | { ok: false; code: string; message: string; offered: OfferDescription };

export interface AuthContext {
  config: PushgateConfig;
  trust: Trust;
  now?: Date;
}

function describeCertificate(cert: Certificate): OfferDescription {
  return {
    ...(cert.principals[0] !== undefined ? { principal: cert.principals[0] } : {}),
    keyId: cert.keyId,
    certSerial: cert.serial.toString(),
    keyFingerprint: fingerprint(cert.publicKey.blob),
  };
}

function refuse(code: string, message: string, offered: OfferDescription = {}): AuthDecision {
  return { ok: false, code, message, offered };
}

/** The plain algorithm a signature must use for an offered algorithm (`rsa-sha2-256-cert-v01@…` → `rsa-sha2-256`). */
function signatureAlgorithmFor(offered: string): string {
  return offered.endsWith(CERT_SUFFIX) ? offered.slice(0, -CERT_SUFFIX.length) : offered;
}

function algorithmMatchesKey(offered: string, keyType: string): boolean {
  const plain = signatureAlgorithmFor(offered);
  if (keyType === 'ssh-rsa') return plain === 'rsa-sha2-256' || plain === 'rsa-sha2-512' || plain === 'ssh-rsa';
  return plain === keyType;
}

/**
 * Checks a certificate as sshd does with TrustedUserCAKeys, plus who it logs
 * in as: the login name must be the service user or one of the principals.
 * Used by the gateway and by front ends where sshd already checked the
 * signature (the KRL and identity rules still apply there).
 */
export function verifyCertificateLogin(certBlob: Buffer, login: { user: string; clientAddress: string }, context: AuthContext): AuthDecision {
  let cert: Certificate;
  try {
    cert = parseCertificate(certBlob);
  } catch (error) {
    return refuse(isCertError(error) ? error.code : 'cert.malformed', (error as Error).message);
  }
  const offered = describeCertificate(cert);
  const revocation = context.trust.revocation();
  if (!revocation.ok) return refuse('krl.unusable', `the revocation list cannot be read, so no certificate is accepted: ${revocation.error}`, offered);
  const { config } = context;
  let verified;
  try {
    verified = verifyCertificate(cert, {
      trustedCAs: context.trust.cas,
      now: context.now ?? new Date(),
      clockSkewSeconds: Math.floor(config.ca.clockSkew / 1000),
      clientAddress: login.clientAddress,
      ...(revocation.value !== null ? { revocation: revocation.value } : {}),
    });
  } catch (error) {
    if (isCertError(error)) return refuse(error.code, error.message, AFTER_CA_SIGNATURE.has(error.code) ? { ...offered, trusted: true } : offered);
    throw error;
  }
  offered.trusted = true;
  const reserved = reservedPrincipalRefusal(verified.principals, sponsorFromExtensions(verified.extensions, config.identity.sponsorExtension), offered);
  if (reserved !== null) return reserved;
  if (login.user !== config.serviceUser && !verified.principals.includes(login.user)) {
    return refuse('auth.user', `log in as ${config.serviceUser}; "${escapeControl(login.user.slice(0, 64))}" is not a principal of this certificate`, offered);
  }
  const identity = identityFromCertificate(verified, config, { loginName: login.user, clientAddress: login.clientAddress });
  if (!isUsablePrincipal(identity.principal)) {
    return refuse('cert.principal', 'the certificate\'s principal contains spaces, commas or control characters', offered);
  }
  return { ok: true, identity, ...(verified.forceCommand !== undefined ? { forceCommand: verified.forceCommand } : {}) };
}

/**
 * A certificate naming a principal (or sponsor) that pushgate reserves for
 * identities it assigns itself is refused whole, whichever principal the
 * login would pick: `local:root` signed by a trusted CA must not become the
 * server's shell user.
 */
export function reservedPrincipalRefusal(principals: readonly string[], sponsor: string | undefined, offered: OfferDescription = {}): AuthDecision | null {
  const principal = firstReservedPrincipal(principals);
  if (principal !== undefined) {
    return refuse('cert.reserved-principal', `the certificate names the principal "${escapeControl(principal.slice(0, 64))}": ${reservedMessage(principal)}`, offered);
  }
  if (sponsor !== undefined && isReservedPrincipal(sponsor)) {
    return refuse('cert.reserved-principal', `the certificate names the sponsor "${escapeControl(sponsor.slice(0, 64))}": ${reservedMessage(sponsor)}`, offered);
  }
  return null;
}

function checkSignature(key: PublicKey | Certificate, offer: KeyOffer, offered: OfferDescription): AuthDecision | null {
  if (offer.signed === undefined) return null;
  try {
    const used = signatureAlgorithm(offer.signed.signature);
    if (used !== signatureAlgorithmFor(offer.algorithm)) {
      return refuse('auth.bad-signature', `the signature uses ${escapeControl(used.slice(0, 64))}, not the offered ${escapeControl(offer.algorithm.slice(0, 64))}`, offered);
    }
    if ('certType' in key) verifySessionSignature(key, offer.signed.data, offer.signed.signature);
    else verifySignature(key, offer.signed.data, offer.signed.signature, 'session signature');
  } catch (error) {
    if (isCertError(error)) return refuse(error.code === 'cert.weak-algorithm' ? error.code : 'auth.bad-signature', error.message, offered);
    throw error;
  }
  return null;
}

function authenticateCertificate(offer: KeyOffer, context: AuthContext): AuthDecision {
  const decision = verifyCertificateLogin(offer.keyBlob, offer, context);
  if (!decision.ok) return decision;
  const cert = parseCertificate(offer.keyBlob);
  const offered: OfferDescription = { ...describeCertificate(cert), trusted: true };
  if (!algorithmMatchesKey(offer.algorithm, cert.publicKey.type)) {
    return refuse('auth.algorithm', `${escapeControl(offer.algorithm.slice(0, 64))} does not match the certificate's ${cert.certType}`, offered);
  }
  return checkSignature(cert, offer, offered) ?? decision;
}

function checkPlainSignature(key: PublicKey, offer: KeyOffer, offered: OfferDescription): AuthDecision | null {
  const signed = offer.signed;
  if (signed === undefined) return null;
  if (signed.verifyPlain === undefined) return checkSignature(key, offer, offered);
  return signed.verifyPlain() ? null : refuse('auth.bad-signature', 'the session signature does not verify (or uses SHA-1)', offered);
}

/**
 * Why a plain key may not log in as `user`, or null when it may: only keys on
 * the break-glass list, only as the service user. Proof of possession is the
 * caller's (the gateway checks the signature; sshd has, before `pushgate shell`).
 */
export function breakGlassRefusal(key: PublicKey, user: string, context: AuthContext): AuthDecision | null {
  const offered = { keyFingerprint: fingerprint(key.blob) };
  const list = context.trust.breakGlassKeys();
  if (list === null) return refuse('auth.plain-key', 'plain keys are not accepted: log in with a certificate from a trusted CA', offered);
  if (!list.ok) return refuse('auth.break-glass-unusable', `the break-glass key list cannot be read: ${list.error}`, offered);
  if (!list.value.keys.some((k) => k.blob.equals(key.blob))) {
    return refuse('auth.plain-key', 'this plain key is not on the break-glass list: log in with a certificate from a trusted CA', offered);
  }
  if (user !== context.config.serviceUser) return refuse('auth.user', `log in as ${context.config.serviceUser}`, offered);
  return null;
}

function authenticatePlainKey(offer: KeyOffer, context: AuthContext): AuthDecision {
  let key: PublicKey;
  try {
    key = parsePublicKeyBlob(offer.keyBlob, 'offered key');
  } catch (error) {
    return refuse('auth.unsupported-key', (error as Error).message);
  }
  const refused = breakGlassRefusal(key, offer.user, context);
  if (refused !== null) return refused;
  const offered = { keyFingerprint: fingerprint(key.blob) };
  if (!algorithmMatchesKey(offer.algorithm, key.type)) return refuse('auth.algorithm', `${escapeControl(offer.algorithm.slice(0, 64))} does not match the ${key.type} key`, offered);
  const signatureProblem = checkPlainSignature(key, offer, offered);
  if (signatureProblem !== null) return signatureProblem;
  return { ok: true, identity: identityFromBreakGlassKey(offered.keyFingerprint, context.config, { clientAddress: offer.clientAddress }) };
}

/** Decides one `publickey` attempt: the unsigned query and the signed attempt alike. */
export function authenticate(offer: KeyOffer, context: AuthContext): AuthDecision {
  return offer.algorithm.endsWith(CERT_SUFFIX) ? authenticateCertificate(offer, context) : authenticatePlainKey(offer, context);
}
