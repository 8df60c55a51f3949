import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { CertError } from './errors.js';
import { curveOf, type PublicKey } from './keys.js';
import { SshReader, SshWriter } from './wire.js';

export type SignatureAlgorithm =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'rsa-sha2-256'
  | 'rsa-sha2-512';

const RSA_HASHES = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' } as const;

/** The algorithm name a signature blob declares, without verifying it. */
export function signatureAlgorithm(signature: Buffer): string {
  return new SshReader(signature, 'cert.bad-signature', 'signature').text('signature algorithm');
}

/**
 * Verifies an SSH signature blob (string algorithm, string bytes) over `data`
 * with `key`. Throws `cert.weak-algorithm` for SHA-1 RSA signatures and
 * `cert.bad-signature` for anything that does not verify.
 */
export function verifySignature(key: PublicKey, data: Buffer, signature: Buffer, what = 'signature'): void {
  const reader = new SshReader(signature, 'cert.bad-signature', what);
  const algorithm = reader.text('signature algorithm');
  const bytes = reader.string('signature bytes');
  reader.end(what);
  if (algorithm === 'ssh-rsa') {
    throw new CertError('cert.weak-algorithm', `${what} uses ssh-rsa (RSA with SHA-1), which is refused; sign with rsa-sha2-256 or rsa-sha2-512`);
  }
  if (!verifyBytes(key, algorithm, data, bytes)) {
    throw new CertError('cert.bad-signature', `${what} does not verify with the ${key.type} key`);
  }
}

function verifyBytes(key: PublicKey, algorithm: string, data: Buffer, bytes: Buffer): boolean {
  try {
    if (key.type === 'ssh-ed25519') {
      return algorithm === 'ssh-ed25519' && bytes.length === 64 && verify(null, data, key.key, bytes);
    }
    if (key.type === 'ssh-rsa') {
      const hash = RSA_HASHES[algorithm as keyof typeof RSA_HASHES];
      const modulusBytes = Math.ceil(key.bits / 8);
      if (hash === undefined || bytes.length > modulusBytes) return false;
      // OpenSSL wants the signature exactly as long as the modulus; SSH may drop leading zeros.
      const padded = Buffer.concat([Buffer.alloc(modulusBytes - bytes.length), bytes]);
      return verify(hash, data, { key: key.key, padding: constants.RSA_PKCS1_PADDING }, padded);
    }
    const curve = curveOf(key.type)!;
    if (algorithm !== key.type) return false;
    const inner = new SshReader(bytes, 'cert.bad-signature', 'ecdsa signature');
    const r = inner.mpintUnsigned('ecdsa r');
    const s = inner.mpintUnsigned('ecdsa s');
    inner.end('ecdsa signature');
    if (r.length > curve.size || s.length > curve.size) return false;
    const p1363 = Buffer.concat([Buffer.alloc(curve.size - r.length), r, Buffer.alloc(curve.size - s.length), s]);
    return verify(curve.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, p1363);
  } catch {
    // A malformed inner encoding or an OpenSSL refusal is simply a signature that does not verify.
    return false;
  }
}

/** Signs `data` and returns the SSH signature blob. RSA signs with rsa-sha2-512 unless told otherwise. */
export function signData(key: KeyObject, publicKey: PublicKey, data: Buffer, rsaAlgorithm: 'rsa-sha2-256' | 'rsa-sha2-512' = 'rsa-sha2-512'): Buffer {
  const writer = new SshWriter();
  if (publicKey.type === 'ssh-ed25519') {
    return writer.string('ssh-ed25519').string(sign(null, data, key)).toBuffer();
  }
  if (publicKey.type === 'ssh-rsa') {
    const bytes = sign(RSA_HASHES[rsaAlgorithm], data, { key, padding: constants.RSA_PKCS1_PADDING });
    return writer.string(rsaAlgorithm).string(bytes).toBuffer();
  }
  const curve = curveOf(publicKey.type)!;
  const p1363 = sign(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' });
  const inner = new SshWriter().mpint(p1363.subarray(0, curve.size)).mpint(p1363.subarray(curve.size)).toBuffer();
  return writer.string(publicKey.type).string(inner).toBuffer();
}
