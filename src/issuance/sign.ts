import { randomBytes } from 'node:crypto';
import type { PushgateConfig } from '../config/index.js';
import { certificateKeyId, type TokenIdentity } from '../identity/token-identity.js';
import {
  fingerprint, formatCertificateLine, normalizeAddress, parsePublicKeyLine, signCertificate, stringOption,
  type CertOption, type PrivateKey, type PublicKey,
} from '../sshcert/index.js';
import { IssuanceError } from './errors.js';

/** A public key line is short; anything longer is not one. */
export const MAX_PUBLIC_KEY_LINE = 8192;
/** Back-dated like `ssh-keygen` and `pushgate ca sign`, to absorb small clock differences. */
export const BACKDATE_SECONDS = 60n;

export interface IssueRequest {
  identity: TokenIdentity;
  /** The caller's OpenSSH public key line, as received. */
  publicKey: unknown;
  ttlSeconds: number;
  /** The requesting address, bound into the certificate when `ca.sourceAddressBinding`. */
  clientAddress?: string;
  /** Seconds since the epoch; default now. */
  now?: number;
}

export interface IssuedCertificate {
  /** `<type>-cert-v01@openssh.com <base64> <comment>`. */
  line: string;
  principal: string;
  roles: string[];
  sponsor?: string;
  keyId: string;
  /** Decimal. */
  serial: string;
  validAfter: Date;
  validBefore: Date;
  /** SHA256:… of the certified key. */
  keyFingerprint: string;
  sourceAddress?: string;
}

function randomSerial(): bigint {
  // 63 bits, so the serial also reads as a positive signed integer everywhere.
  return randomBytes(8).readBigUInt64BE() >> 1n;
}

export function parseRequestKey(line: unknown): PublicKey & { comment: string } {
  if (typeof line !== 'string' || line.length === 0 || line.length > MAX_PUBLIC_KEY_LINE || /[\r\n\0]/.test(line.trim())) {
    throw new IssuanceError('request.public-key', 'publicKey must be one OpenSSH public key line ("ssh-ed25519 AAAA… comment")');
  }
  if (/-cert-v01@openssh\.com/.test(line.trim().split(/\s+/)[0] ?? '')) {
    throw new IssuanceError('request.public-key', 'publicKey must be a plain public key, not a certificate');
  }
  try {
    return parsePublicKeyLine(line.trim(), 'publicKey');
  } catch (error) {
    throw new IssuanceError('request.public-key', (error as Error).message);
  }
}

/** Signs a user certificate for a verified identity. */
export function issueCertificate(request: IssueRequest, config: PushgateConfig, caKey: PrivateKey): IssuedCertificate {
  const subject = parseRequestKey(request.publicKey);
  const { identity } = request;
  const now = BigInt(request.now ?? Math.floor(Date.now() / 1000));
  const validAfter = now - BACKDATE_SECONDS;
  const validBefore = now + BigInt(request.ttlSeconds);
  const criticalOptions: CertOption[] = [];
  let sourceAddress: string | undefined;
  if (config.ca.sourceAddressBinding && request.clientAddress !== undefined) {
    sourceAddress = normalizeAddress(request.clientAddress);
    criticalOptions.push(stringOption('source-address', sourceAddress));
  }
  const extensions: CertOption[] = [];
  if (identity.roles.length > 0) extensions.push(stringOption(config.identity.roleExtension, identity.roles.join(',')));
  if (identity.sponsor !== undefined) extensions.push(stringOption(config.identity.sponsorExtension, identity.sponsor));
  const keyId = certificateKeyId(identity);
  const cert = signCertificate(
    { publicKey: subject, keyId, principals: [identity.principal], validAfter, validBefore, serial: randomSerial(), criticalOptions, extensions },
    caKey,
  );
  return {
    line: formatCertificateLine(cert, identity.principal),
    principal: identity.principal,
    roles: identity.roles,
    ...(identity.sponsor !== undefined ? { sponsor: identity.sponsor } : {}),
    keyId,
    serial: cert.serial.toString(),
    validAfter: new Date(Number(validAfter) * 1000),
    validBefore: new Date(Number(validBefore) * 1000),
    keyFingerprint: fingerprint(subject.blob),
    ...(sourceAddress !== undefined ? { sourceAddress } : {}),
  };
}
