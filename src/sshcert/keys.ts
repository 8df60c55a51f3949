import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CertError } from './errors.js';
import { SshReader, SshWriter } from './wire.js';

export type KeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

/** A plain (non-certificate) public key: its SSH blob and the node:crypto key for it. */
export interface PublicKey {
  readonly type: KeyType;
  readonly blob: Buffer;
  readonly key: KeyObject;
  /** RSA modulus size or EC curve size, for display and minimum-size checks. */
  readonly bits: number;
}

interface Curve {
  readonly name: 'nistp256' | 'nistp384' | 'nistp521';
  readonly jwk: 'P-256' | 'P-384' | 'P-521';
  readonly size: number;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
}

const CURVES: Record<string, Curve> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', jwk: 'P-256', size: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { name: 'nistp384', jwk: 'P-384', size: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { name: 'nistp521', jwk: 'P-521', size: 66, hash: 'sha512' },
};

/** Smallest RSA modulus accepted for any key or CA. */
export const MIN_RSA_BITS = 2048;

export function isKeyType(name: string): name is KeyType {
  return name === 'ssh-ed25519' || name === 'ssh-rsa' || name in CURVES;
}

export function curveOf(type: KeyType): Curve | undefined {
  return CURVES[type];
}

const b64url = (b: Buffer): string => b.toString('base64url');

function keyObject(jwk: Record<string, string>, what: string): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    throw new CertError('cert.malformed', `${what} is not a valid public key (${(error as Error).message})`);
  }
}

/**
 * Reads the key-specific fields that follow the type name (and, in a
 * certificate, the nonce). The same layout serves plain keys and certificates.
 */
export function readKeyFields(reader: SshReader, type: KeyType, what: string): PublicKey {
  const writer = new SshWriter().string(type);
  if (type === 'ssh-ed25519') {
    const pk = reader.string('ed25519 public key');
    if (pk.length !== 32) reader.fail(`ed25519 public key must be 32 bytes, not ${pk.length}`);
    const blob = writer.string(pk).toBuffer();
    return { type, blob, key: keyObject({ kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, what), bits: 256 };
  }
  if (type === 'ssh-rsa') {
    const e = reader.mpintUnsigned('rsa exponent');
    const n = reader.mpintUnsigned('rsa modulus');
    if (n.length === 0 || e.length === 0) reader.fail('rsa key has an empty modulus or exponent');
    const bits = n.length * 8 - Math.clz32(n[0]!) + 24;
    const blob = writer.mpint(e).mpint(n).toBuffer();
    if (bits > 16384) reader.fail(`rsa modulus of ${bits} bits is larger than any key OpenSSH accepts`);
    const key = keyObject({ kty: 'RSA', n: b64url(n), e: b64url(e) }, what);
    if (bits < MIN_RSA_BITS) {
      throw new CertError('cert.weak-algorithm', `${what} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`);
    }
    return { type, blob, key, bits };
  }
  const curve = CURVES[type]!;
  const curveName = reader.text('ecdsa curve name');
  if (curveName !== curve.name) reader.fail(`ecdsa curve ${JSON.stringify(curveName)} does not match key type ${type}`);
  const q = reader.string('ecdsa public point');
  if (q.length !== 1 + 2 * curve.size || q[0] !== 0x04) reader.fail(`ecdsa public point is not an uncompressed ${curve.name} point`);
  const x = q.subarray(1, 1 + curve.size);
  const y = q.subarray(1 + curve.size);
  const blob = writer.string(curve.name).string(q).toBuffer();
  return { type, blob, key: keyObject({ kty: 'EC', crv: curve.jwk, x: b64url(x), y: b64url(y) }, what), bits: curve.size === 66 ? 521 : curve.size * 8 };
}

/** Parses a plain public key blob (as in an authorized_keys line or a certificate's signature key). */
export function parsePublicKeyBlob(blob: Buffer, what = 'public key'): PublicKey {
  const reader = new SshReader(blob, 'cert.malformed', what);
  const type = reader.text('key type');
  if (!isKeyType(type)) {
    if (type.includes('-cert-v01@openssh.com')) reader.fail('a certificate was given where a plain key is required');
    throw new CertError('cert.unsupported-key', `${what} has unsupported key type ${JSON.stringify(type.slice(0, 64))}`);
  }
  const key = readKeyFields(reader, type, what);
  reader.end(what);
  return key;
}

/** Builds the SSH public key for a node:crypto public or private key. */
export function publicKeyFromKeyObject(key: KeyObject): PublicKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  const writer = new SshWriter();
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    writer.string('ssh-ed25519').string(Buffer.from(jwk.x!, 'base64url'));
  } else if (jwk.kty === 'RSA') {
    writer.string('ssh-rsa').mpint(Buffer.from(jwk.e!, 'base64url')).mpint(Buffer.from(jwk.n!, 'base64url'));
  } else if (jwk.kty === 'EC') {
    const entry = Object.entries(CURVES).find(([, c]) => c.jwk === jwk.crv);
    if (!entry) throw new CertError('key.unsupported', `unsupported EC curve ${jwk.crv}`);
    const [type, curve] = entry;
    const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    writer.string(type).string(curve.name).string(q);
  } else {
    throw new CertError('key.unsupported', `unsupported key type ${jwk.kty}${jwk.crv ? ` (${jwk.crv})` : ''}`);
  }
  return parsePublicKeyBlob(writer.toBuffer());
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Strict base64: node's decoder silently skips garbage, which would hide corruption. */
export function decodeBase64(text: string, code: 'cert.malformed' | 'key.malformed', what: string): Buffer {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new CertError(code, `${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

/** The fields of an OpenSSH one-line key or certificate: `type base64 [comment]`. */
export function splitKeyLine(text: string, code: 'cert.malformed' | 'key.malformed', what: string): { type: string; blob: Buffer; comment: string } {
  const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  if (line === undefined) throw new CertError(code, `${what} is empty`);
  const [type, data, ...rest] = line.split(/\s+/);
  if (type === undefined || data === undefined) throw new CertError(code, `${what} is not in OpenSSH "type base64 comment" form`);
  return { type, blob: decodeBase64(data, code, what), comment: rest.join(' ') };
}

/** Reads an OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
export function parsePublicKeyLine(text: string, what = 'public key'): PublicKey & { comment: string } {
  const { type, blob, comment } = splitKeyLine(text, 'cert.malformed', what);
  const key = parsePublicKeyBlob(blob, what);
  if (key.type !== type) throw new CertError('cert.malformed', `${what} says ${type} but holds a ${key.type} key`);
  return { ...key, comment };
}

export function formatPublicKeyLine(key: PublicKey, comment = ''): string {
  return `${key.type} ${key.blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** OpenSSH's SHA256 fingerprint: `SHA256:` + unpadded base64 of the blob's digest. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The short key name ssh-keygen prints (ED25519, ECDSA, RSA). */
export function keyLabel(type: KeyType): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type === 'ssh-rsa') return 'RSA';
  return 'ECDSA';
}
