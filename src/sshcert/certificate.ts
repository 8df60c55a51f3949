import { randomBytes } from 'node:crypto';
import { CertError } from './errors.js';
import { isKeyType, parsePublicKeyBlob, readKeyFields, splitKeyLine, type KeyType, type PublicKey } from './keys.js';
import type { PrivateKey } from './privatekey.js';
import { signData } from './signature.js';
import { SshReader, SshWriter } from './wire.js';

export const USER_CERT = 1;
export const HOST_CERT = 2;
/** valid_before value meaning "forever". */
export const FOREVER = 0xffffffffffffffffn;

const CERT_SUFFIX = '-cert-v01@openssh.com';

/** A named certificate option or extension with its raw data. */
export interface CertOption {
  readonly name: string;
  readonly data: Buffer;
}

export interface Certificate {
  /** Certificate algorithm, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly certType: string;
  readonly nonce: Buffer;
  /** The subject's plain public key. */
  readonly publicKey: PublicKey;
  readonly serial: bigint;
  /** 1 = user, 2 = host. */
  readonly type: number;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly CertOption[];
  readonly extensions: readonly CertOption[];
  /** The CA's plain public key blob, as embedded; parsed in `signatureKey`. */
  readonly signatureKeyBlob: Buffer;
  readonly signatureKey: PublicKey;
  readonly signature: Buffer;
  /** Everything the CA signed: the blob up to the end of the signature-key field. */
  readonly signedData: Buffer;
  /** The whole certificate blob. */
  readonly blob: Buffer;
}

export function certTypeFor(keyType: KeyType): string {
  return `${keyType}${CERT_SUFFIX}`;
}

function keyTypeOfCert(certType: string): KeyType | undefined {
  if (!certType.endsWith(CERT_SUFFIX)) return undefined;
  const base = certType.slice(0, -CERT_SUFFIX.length);
  return isKeyType(base) ? base : undefined;
}

function readOptions(reader: SshReader, field: string): CertOption[] {
  const list = new SshReader(reader.string(field), 'cert.malformed', field);
  const options: CertOption[] = [];
  while (list.remaining > 0) {
    const name = list.text(`${field} name`);
    const data = list.string(`${field} data`);
    const previous = options.at(-1);
    // PROTOCOL.certkeys: names are lexically ordered and appear at most once.
    if (previous !== undefined && Buffer.compare(Buffer.from(previous.name), Buffer.from(name)) >= 0) {
      list.fail(`${field} are not in strict lexical order (${JSON.stringify(name)} after ${JSON.stringify(previous.name)})`);
    }
    options.push({ name, data });
  }
  return options;
}

function readPrincipals(reader: SshReader): string[] {
  const list = new SshReader(reader.string('principals'), 'cert.malformed', 'principals');
  const principals: string[] = [];
  while (list.remaining > 0) principals.push(list.text('principal'));
  return principals;
}

/** Parses a certificate blob. Throws only CertError. */
export function parseCertificate(blob: Buffer): Certificate {
  const reader = new SshReader(blob, 'cert.malformed', 'certificate');
  const certType = reader.text('certificate type');
  const keyType = keyTypeOfCert(certType);
  if (keyType === undefined) {
    if (certType.endsWith(CERT_SUFFIX)) {
      throw new CertError('cert.unsupported-key', `certificate type ${JSON.stringify(certType.slice(0, 64))} is not supported`);
    }
    throw new CertError('cert.malformed', `not a certificate: type is ${JSON.stringify(certType.slice(0, 64))}`);
  }
  const nonce = reader.string('nonce');
  const publicKey = readKeyFields(reader, keyType, 'certified key');
  const serial = reader.uint64('serial');
  const type = reader.uint32('certificate type');
  const keyId = reader.text('key id');
  const principals = readPrincipals(reader);
  const validAfter = reader.uint64('valid after');
  const validBefore = reader.uint64('valid before');
  const criticalOptions = readOptions(reader, 'critical options');
  const extensions = readOptions(reader, 'extensions');
  reader.string('reserved');
  const signatureKeyBlob = reader.string('signature key');
  const signedData = blob.subarray(0, reader.position);
  const signature = reader.string('signature');
  reader.end('certificate');
  const signatureKey = parsePublicKeyBlob(signatureKeyBlob, 'signing CA key');
  return {
    certType, nonce, publicKey, serial, type, keyId, principals, validAfter, validBefore,
    criticalOptions, extensions, signatureKeyBlob, signatureKey, signature, signedData, blob,
  };
}

/** Parses the one-line text form (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`). */
export function parseCertificateText(text: string): Certificate & { comment: string } {
  const { type, blob, comment } = splitKeyLine(text, 'cert.malformed', 'certificate');
  const cert = parseCertificate(blob);
  if (cert.certType !== type) throw new CertError('cert.malformed', `certificate line says ${type} but holds a ${cert.certType}`);
  return { ...cert, comment };
}

export function formatCertificateLine(cert: Certificate, comment = ''): string {
  return `${cert.certType} ${cert.blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

export interface CertificateRequest {
  readonly publicKey: PublicKey;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly serial?: bigint;
  readonly type?: number;
  readonly criticalOptions?: readonly CertOption[];
  readonly extensions?: readonly CertOption[];
}

function writeOptions(options: readonly CertOption[]): Buffer {
  const sorted = [...options].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const writer = new SshWriter();
  sorted.forEach((option, i) => {
    if (i > 0 && sorted[i - 1]!.name === option.name) throw new CertError('cert.malformed', `option ${option.name} given twice`);
    writer.string(option.name).string(option.data);
  });
  return writer.toBuffer();
}

/** An option whose data is itself a string, as `force-command` and `source-address` are. */
export function stringOption(name: string, value: string): CertOption {
  return { name, data: new SshWriter().string(value).toBuffer() };
}

/** Reads the string inside a string-valued option's data. */
export function stringOptionValue(option: CertOption): string {
  const reader = new SshReader(option.data, 'cert.malformed', `option ${option.name}`);
  const value = reader.text(option.name);
  reader.end(`option ${option.name}`);
  return value;
}

/** Builds and signs a certificate. RSA CAs sign with rsa-sha2-512. */
export function signCertificate(request: CertificateRequest, ca: PrivateKey): Certificate {
  const key = request.publicKey;
  const fields = new SshWriter().string(certTypeFor(key.type)).string(randomBytes(32));
  // The key fields are the plain blob minus its leading type string.
  const typeLength = 4 + Buffer.byteLength(key.type);
  fields.raw(key.blob.subarray(typeLength));
  const principals = new SshWriter();
  for (const p of request.principals) principals.string(p);
  fields
    .uint64(request.serial ?? 0n)
    .uint32(request.type ?? USER_CERT)
    .string(request.keyId)
    .string(principals.toBuffer())
    .uint64(request.validAfter)
    .uint64(request.validBefore)
    .string(writeOptions(request.criticalOptions ?? []))
    .string(writeOptions(request.extensions ?? []))
    .string('')
    .string(ca.publicKey.blob);
  const signedData = fields.toBuffer();
  const signature = signData(ca.key, ca.publicKey, signedData);
  return parseCertificate(Buffer.concat([signedData, new SshWriter().string(signature).toBuffer()]));
}
