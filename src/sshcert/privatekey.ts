import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { CertError } from './errors.js';
import { curveOf, isKeyType, publicKeyFromKeyObject, type KeyType, type PublicKey } from './keys.js';
import { SshReader, SshWriter } from './wire.js';

/** A private key with its SSH public half. */
export interface PrivateKey {
  readonly type: KeyType;
  readonly key: KeyObject;
  readonly publicKey: PublicKey;
  readonly comment: string;
}

export type GeneratedKeyType = 'ed25519' | 'ecdsa' | 'rsa';

// Assembled from parts so that source files never carry a private-key armor line.
const OPENSSH_ARMOR = ['OPENSSH', 'PRIVATE', 'KEY'].join(' ');
const BEGIN = `-----BEGIN ${OPENSSH_ARMOR}-----`;
const END = `-----END ${OPENSSH_ARMOR}-----`;
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

export function generatePrivateKey(type: GeneratedKeyType, options: { bits?: number; comment?: string } = {}): PrivateKey {
  let key: KeyObject;
  if (type === 'ed25519') {
    key = generateKeyPairSync('ed25519').privateKey;
  } else if (type === 'ecdsa') {
    const bits = options.bits ?? 256;
    const namedCurve = { 256: 'P-256', 384: 'P-384', 521: 'P-521' }[bits];
    if (namedCurve === undefined) throw new CertError('key.unsupported', `ECDSA keys are 256, 384 or 521 bits, not ${bits}`);
    key = generateKeyPairSync('ec', { namedCurve }).privateKey;
  } else {
    const bits = options.bits ?? 3072;
    if (bits < 2048 || bits > 16384) throw new CertError('key.unsupported', `RSA keys are 2048 to 16384 bits, not ${bits}`);
    key = generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
  }
  return fromKeyObject(key, options.comment ?? '');
}

function fromKeyObject(key: KeyObject, comment: string): PrivateKey {
  const publicKey = publicKeyFromKeyObject(key);
  return { type: publicKey.type, key, publicKey, comment };
}

/**
 * Reads a private key: OpenSSH's own format, or PEM/PKCS#8 where node reads
 * it. Passphrase-protected keys are refused with `key.encrypted`.
 */
export function parsePrivateKey(text: string | Buffer, what = 'private key'): PrivateKey {
  const content = text.toString();
  if (content.includes(BEGIN)) return parseOpenSshPrivateKey(content, what);
  if (/-----BEGIN ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(content)) {
    throw new CertError('key.encrypted', `${what} is protected by a passphrase; remove it (openssl pkey) or use an unencrypted key`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(content);
  } catch (error) {
    throw new CertError('key.malformed', `${what} is not a private key that can be read (${(error as Error).message})`);
  }
  try {
    return fromKeyObject(key, '');
  } catch (error) {
    if (error instanceof CertError) throw error;
    throw new CertError('key.unsupported', `${what} has an unsupported key type`);
  }
}

function parseOpenSshPrivateKey(content: string, what: string): PrivateKey {
  const start = content.indexOf(BEGIN) + BEGIN.length;
  const end = content.indexOf(END, start);
  if (end < 0) throw new CertError('key.malformed', `${what} has no END line`);
  const b64 = content.slice(start, end).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new CertError('key.malformed', `${what} is not valid base64`);
  const data = Buffer.from(b64, 'base64');
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new CertError('key.malformed', `${what} is not an openssh-key-v1 key`);
  const outer = new SshReader(data.subarray(MAGIC.length), 'key.malformed', what);
  const cipher = outer.text('cipher name');
  const kdf = outer.text('kdf name');
  outer.string('kdf options');
  if (cipher !== 'none' || kdf !== 'none') {
    throw new CertError('key.encrypted', `${what} is protected by a passphrase; remove it with \`ssh-keygen -p -N "" -f FILE\` or use an unencrypted key`);
  }
  const count = outer.uint32('key count');
  if (count !== 1) throw new CertError('key.malformed', `${what} holds ${count} keys; exactly one is supported`);
  const publicBlob = outer.string('public key');
  const inner = new SshReader(outer.string('private section'), 'key.malformed', what);
  outer.end(what);
  if (inner.uint32('check') !== inner.uint32('check')) throw new CertError('key.malformed', `${what} is corrupt (check words differ)`);
  const type = inner.text('key type');
  if (!isKeyType(type)) throw new CertError('key.unsupported', `${what} has unsupported key type ${JSON.stringify(type.slice(0, 64))}`);
  const key = readPrivateFields(inner, type, what);
  const comment = inner.text('comment');
  const parsed = fromKeyObject(key, comment);
  if (!parsed.publicKey.blob.equals(publicBlob)) throw new CertError('key.malformed', `${what} is corrupt (public and private halves differ)`);
  return parsed;
}

function readPrivateFields(reader: SshReader, type: KeyType, what: string): KeyObject {
  const b64u = (b: Buffer): string => b.toString('base64url');
  let jwk: Record<string, string>;
  if (type === 'ssh-ed25519') {
    const pk = reader.string('ed25519 public');
    const sk = reader.string('ed25519 private');
    if (pk.length !== 32 || sk.length !== 64) reader.fail('ed25519 key has wrong lengths');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(pk), d: b64u(sk.subarray(0, 32)) };
  } else if (type === 'ssh-rsa') {
    const n = reader.mpintUnsigned('n');
    const e = reader.mpintUnsigned('e');
    const d = reader.mpintUnsigned('d');
    const qi = reader.mpintUnsigned('iqmp');
    const p = reader.mpintUnsigned('p');
    const q = reader.mpintUnsigned('q');
    const big = (b: Buffer): bigint => BigInt(`0x${b.toString('hex') || '0'}`);
    const toBuf = (v: bigint): Buffer => {
      const hex = v.toString(16);
      return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    };
    const dp = toBuf(big(d) % (big(p) - 1n));
    const dq = toBuf(big(d) % (big(q) - 1n));
    jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(dp), dq: b64u(dq), qi: b64u(qi) };
  } else {
    const curve = curveOf(type)!;
    const name = reader.text('curve');
    const q = reader.string('public point');
    const d = reader.mpintUnsigned('private scalar');
    if (name !== curve.name || q.length !== 1 + 2 * curve.size || d.length > curve.size) reader.fail('ecdsa key fields do not match its curve');
    jwk = {
      kty: 'EC',
      crv: { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' }[curve.name],
      x: b64u(q.subarray(1, 1 + curve.size)),
      y: b64u(q.subarray(1 + curve.size)),
      d: b64u(Buffer.concat([Buffer.alloc(curve.size - d.length), d])),
    };
  }
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (error) {
    throw new CertError('key.malformed', `${what} holds an invalid ${type} key (${(error as Error).message})`);
  }
}

/** Writes a private key in OpenSSH's unencrypted format, readable by ssh-keygen and ssh. */
export function formatPrivateKey(privateKey: PrivateKey): string {
  const jwk = privateKey.key.export({ format: 'jwk' });
  const fromB64u = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');
  const check = randomBytes(4).readUInt32BE();
  const inner = new SshWriter().uint32(check).uint32(check).string(privateKey.type);
  if (privateKey.type === 'ssh-ed25519') {
    const pk = fromB64u(jwk.x);
    inner.string(pk).string(Buffer.concat([fromB64u(jwk.d), pk]));
  } else if (privateKey.type === 'ssh-rsa') {
    inner.mpint(fromB64u(jwk.n)).mpint(fromB64u(jwk.e)).mpint(fromB64u(jwk.d)).mpint(fromB64u(jwk.qi)).mpint(fromB64u(jwk.p)).mpint(fromB64u(jwk.q));
  } else {
    const curve = curveOf(privateKey.type)!;
    const q = Buffer.concat([Buffer.from([4]), fromB64u(jwk.x), fromB64u(jwk.y)]);
    inner.string(curve.name).string(q).mpint(fromB64u(jwk.d));
  }
  inner.string(privateKey.comment);
  let body = inner.toBuffer();
  const padding = (8 - (body.length % 8)) % 8;
  body = Buffer.concat([body, Buffer.from(Array.from({ length: padding }, (_, i) => i + 1))]);
  const blob = Buffer.concat([
    MAGIC,
    new SshWriter().string('none').string('none').string('').uint32(1).string(privateKey.publicKey.blob).string(body).toBuffer(),
  ]);
  const lines = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}
