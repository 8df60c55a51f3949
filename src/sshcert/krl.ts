/**
 * Reader for OpenSSH key revocation lists (PROTOCOL.krl), as written by
 * `ssh-keygen -k`, with the revocation semantics of OpenSSH's
 * `ssh_krl_check_key` (krl.c).
 */
import { createHash, createPublicKey } from 'node:crypto';
import { CertError } from './errors.js';
import { SshReader, SshWriter } from './wire.js';

export interface RevocationSubject {
  /** The subject's plain public key blob (a certificate's key without the certificate fields). */
  keyBlob: Buffer;
  /** For a certificate: the signing CA's public key blob. */
  caKeyBlob?: Buffer;
  /** For a certificate. */
  serial?: bigint;
  /** For a certificate. */
  keyId?: string;
}

export interface Revocation {
  revoked: true;
  reason: string;
}

const MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
const FORMAT_VERSION = 1;
/** OpenSSH cannot load a file larger than this (SSHBUF_SIZE_MAX). */
const MAX_KRL_BYTES = 0x8000000;
/** OpenSSH refuses bignums longer than this (SSHBUF_MAX_BIGNUM), bitmaps included. */
const MAX_BIGNUM_BYTES = 2048;
/** The latest time a JavaScript Date can hold, in seconds. */
const MAX_DATE_SECONDS = 8_640_000_000_000n;

const SECTION_CERTIFICATES = 1;
const SECTION_EXPLICIT_KEY = 2;
const SECTION_FINGERPRINT_SHA1 = 3;
const SECTION_SIGNATURE = 4;
const SECTION_FINGERPRINT_SHA256 = 5;
const SECTION_EXTENSION = 255;

const CERT_SERIAL_LIST = 0x20;
const CERT_SERIAL_RANGE = 0x21;
const CERT_SERIAL_BITMAP = 0x22;
const CERT_KEY_ID = 0x23;
const CERT_EXTENSION = 0x39;

const U64_MAX = (1n << 64n) - 1n;

function reader(data: Buffer, what: string): SshReader {
  return new SshReader(data, 'krl.malformed', what);
}

/** A string that OpenSSH reads as a C string: it may not contain a NUL byte. */
function cstring(r: SshReader, field: string): Buffer {
  const value = r.string(field);
  if (value.includes(0)) r.fail(`${field} contains a NUL byte`);
  return value;
}

function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------
// Serial sets

interface Bitmap {
  start: bigint;
  end: bigint;
  /** Big-endian: serial start + k is bit k % 8 of the (k / 8)-th byte from the end. */
  bits: Buffer;
}

function bitLength(bits: Buffer): number {
  return bits.length === 0 ? 0 : (bits.length - 1) * 8 + (32 - Math.clz32(bits[0]!));
}

function testBit(bits: Buffer, k: number): boolean {
  const byte = bits[bits.length - 1 - (k >>> 3)];
  return byte !== undefined && ((byte >>> (k & 7)) & 1) === 1;
}

function setBit(bits: Buffer, k: number): void {
  bits[bits.length - 1 - (k >>> 3)]! |= 1 << (k & 7);
}

/** Growable array of uint64, backed by a typed array so memory stays proportional to the input. */
class U64List {
  private data = new BigUint64Array(4);
  length = 0;

  push(value: bigint): void {
    if (this.length === this.data.length) {
      const grown = new BigUint64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  get(i: number): bigint {
    return this.data[i]!;
  }

  set(i: number, value: bigint): void {
    this.data[i] = value;
  }

  toArray(): BigUint64Array {
    return this.data.slice(0, this.length);
  }

  toSorted(): BigUint64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** Index of the last element <= value in an ascending array, or -1. */
function lastAtMost(sorted: BigUint64Array, value: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Revoked serials of one CA scope. Nothing is ever expanded: listed serials
 * are sorted, ranges and bitmaps merged into sorted disjoint runs, so a
 * lookup is three binary searches and memory follows the input size.
 */
class SerialSet {
  constructor(
    private readonly singles: BigUint64Array,
    private readonly rangeStarts: BigUint64Array,
    private readonly rangeEnds: BigUint64Array,
    private readonly bitmaps: Bitmap[],
    private readonly bitmapStarts: BigUint64Array,
  ) {}

  has(serial: bigint): boolean {
    const single = lastAtMost(this.singles, serial);
    if (single >= 0 && this.singles[single] === serial) return true;
    const range = lastAtMost(this.rangeStarts, serial);
    if (range >= 0 && serial <= this.rangeEnds[range]!) return true;
    const b = lastAtMost(this.bitmapStarts, serial);
    if (b < 0) return false;
    const bitmap = this.bitmaps[b]!;
    return serial <= bitmap.end && testBit(bitmap.bits, Number(serial - bitmap.start));
  }
}

class SerialSetBuilder {
  private readonly singles = new U64List();
  private readonly rangeLos = new U64List();
  private readonly rangeHis = new U64List();
  private readonly bitmaps: Bitmap[] = [];

  addSerial(serial: bigint): void {
    this.singles.push(serial);
  }

  addRange(lo: bigint, hi: bigint): void {
    this.rangeLos.push(lo);
    this.rangeHis.push(hi);
  }

  addBitmap(bitmap: Bitmap): void {
    this.bitmaps.push(bitmap);
  }

  build(): SerialSet {
    const [starts, ends] = this.mergedRanges();
    const bitmaps = mergeBitmaps(this.bitmaps);
    return new SerialSet(this.singles.toSorted(), starts, ends, bitmaps, BigUint64Array.from(bitmaps, (b) => b.start));
  }

  private mergedRanges(): [BigUint64Array, BigUint64Array] {
    const order = Array.from({ length: this.rangeLos.length }, (_, i) => i);
    order.sort((a, b) => {
      const x = this.rangeLos.get(a);
      const y = this.rangeLos.get(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const starts = new U64List();
    const ends = new U64List();
    for (const i of order) {
      const lo = this.rangeLos.get(i);
      const hi = this.rangeHis.get(i);
      const last = ends.length - 1;
      if (last >= 0 && lo <= ends.get(last)) {
        if (hi > ends.get(last)) ends.set(last, hi);
      } else {
        starts.push(lo);
        ends.push(hi);
      }
    }
    return [starts.toArray(), ends.toArray()];
  }
}

/**
 * Sorts bitmaps and ORs overlapping ones together so they become disjoint.
 * A merged bitmap spans at most the sum of its parts, so memory stays
 * bounded by the input size.
 */
function mergeBitmaps(bitmaps: Bitmap[]): Bitmap[] {
  const sorted = [...bitmaps].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Bitmap[] = [];
  let group: Bitmap[] = [];
  let groupEnd = -1n;
  for (const bitmap of sorted) {
    if (group.length > 0 && bitmap.start > groupEnd) {
      merged.push(combine(group, groupEnd));
      group = [];
    }
    group.push(bitmap);
    if (bitmap.end > groupEnd) groupEnd = bitmap.end;
  }
  if (group.length > 0) merged.push(combine(group, groupEnd));
  return merged;
}

function combine(group: Bitmap[], end: bigint): Bitmap {
  if (group.length === 1) return group[0]!;
  const start = group[0]!.start;
  const bits = Buffer.alloc(Math.ceil(Number(end - start + 1n) / 8));
  for (const part of group) {
    const shift = Number(part.start - start);
    for (let i = 0; i < part.bits.length; i++) {
      const byte = part.bits[part.bits.length - 1 - i]!;
      if (byte === 0) continue;
      for (let b = 0; b < 8; b++) if ((byte >>> b) & 1) setBit(bits, shift + i * 8 + b);
    }
  }
  return { start, end, bits };
}

// ---------------------------------------------------------------------------
// CA keys

/** An SSH mpint as OpenSSH's bignum reader accepts it, without leading zeros. */
function mpint(r: SshReader, field: string): Buffer {
  const raw = r.string(field);
  if (raw.length > 0 && raw[0]! & 0x80) r.fail(`${field} is negative`);
  if (raw.length > MAX_BIGNUM_BYTES + 1 || (raw.length === MAX_BIGNUM_BYTES + 1 && raw[0] !== 0)) {
    r.fail(`${field} is longer than ${MAX_BIGNUM_BYTES} bytes`);
  }
  let start = 0;
  while (start < raw.length && raw[start] === 0) start++;
  return raw.subarray(start);
}

const CURVES: Record<string, { jwk: string; size: number }> = {
  nistp256: { jwk: 'P-256', size: 32 },
  nistp384: { jwk: 'P-384', size: 48 },
  nistp521: { jwk: 'P-521', size: 66 },
};

function ecPoint(r: SshReader, w: SshWriter, curve: string): void {
  const name = r.string('curve name').toString('latin1');
  if (name !== curve) r.fail(`curve "${name}" does not match key type (${curve})`);
  const q = r.string('EC point');
  const { jwk, size } = CURVES[curve]!;
  if (q.length !== 1 + 2 * size || q[0] !== 0x04) r.fail('EC point is not an uncompressed point of the right size');
  try {
    createPublicKey({
      key: { kty: 'EC', crv: jwk, x: q.subarray(1, 1 + size).toString('base64url'), y: q.subarray(1 + size).toString('base64url') },
      format: 'jwk',
    });
  } catch {
    r.fail(`EC point is not on curve ${curve}`);
  }
  w.string(name).string(q);
}

function ed25519(r: SshReader, w: SshWriter): void {
  const pk = r.string('Ed25519 public key');
  if (pk.length !== 32) r.fail(`Ed25519 public key is ${pk.length} bytes, not 32`);
  w.string(pk);
}

function rsa(r: SshReader, w: SshWriter): void {
  const e = mpint(r, 'RSA exponent');
  const n = mpint(r, 'RSA modulus');
  const bits = bitLength(n);
  if (bits < 1024 || bits > 16384) r.fail(`RSA modulus of ${bits} bits is outside 1024..16384`);
  w.mpint(e).mpint(n);
}

/**
 * Validates a CA key blob the way OpenSSH's key parser would accept it and
 * returns its canonical encoding, so that CA scopes compare by key, not by
 * spelling.
 */
function canonicalKey(blob: Buffer, what: string): Buffer {
  const r = reader(blob, what);
  const type = cstring(r, 'key type').toString('latin1');
  const w = new SshWriter().string(type);
  switch (type) {
    case 'ssh-ed25519':
      ed25519(r, w);
      break;
    case 'sk-ssh-ed25519@openssh.com':
      ed25519(r, w);
      w.string(cstring(r, 'application'));
      break;
    case 'ssh-rsa':
      rsa(r, w);
      break;
    case 'ssh-dss':
      for (const field of ['DSA p', 'DSA q', 'DSA g', 'DSA y']) w.mpint(mpint(r, field));
      break;
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521':
      ecPoint(r, w, type.slice('ecdsa-sha2-'.length));
      break;
    case 'sk-ecdsa-sha2-nistp256@openssh.com':
      ecPoint(r, w, 'nistp256');
      w.string(cstring(r, 'application'));
      break;
    default:
      r.fail(`unsupported key type "${type}"`);
  }
  r.end('the key');
  return w.toBuffer();
}

// ---------------------------------------------------------------------------
// Parsing

interface CaScope {
  keyIds: Set<string>;
  serials: SerialSetBuilder;
}

interface CaRevocations {
  keyIds: Set<string>;
  serials: SerialSet;
}

/** Key ids are compared as bytes, like OpenSSH's strcmp. */
function keyIdKey(bytes: Buffer): string {
  return bytes.toString('latin1');
}

class KrlBuilder {
  readonly explicitKeys = new Set<string>();
  readonly sha1s = new Set<string>();
  readonly sha256s = new Set<string>();
  wildcard: CaScope | undefined;
  readonly cas = new Map<string, CaScope>();

  scope(caBlob: Buffer): CaScope {
    if (caBlob.length === 0) return (this.wildcard ??= newScope());
    const key = canonicalKey(caBlob, 'KRL certificate section CA key').toString('latin1');
    let scope = this.cas.get(key);
    if (scope === undefined) {
      scope = newScope();
      this.cas.set(key, scope);
    }
    return scope;
  }
}

function newScope(): CaScope {
  return { keyIds: new Set(), serials: new SerialSetBuilder() };
}

function finish(scope: CaScope): CaRevocations {
  return { keyIds: scope.keyIds, serials: scope.serials.build() };
}

function parseSerialList(sub: SshReader, scope: CaScope): void {
  while (sub.remaining > 0) {
    const serial = sub.uint64('serial');
    if (serial === 0n) sub.fail('serial 0 cannot be revoked by serial (OpenSSH refuses such a KRL)');
    scope.serials.addSerial(serial);
  }
}

function parseSerialRange(sub: SshReader, scope: CaScope): void {
  const lo = sub.uint64('serial_min');
  const hi = sub.uint64('serial_max');
  if (lo === 0n) sub.fail('serial range starts at 0 (OpenSSH refuses such a KRL)');
  if (lo > hi) sub.fail(`serial range ${lo}-${hi} is reversed`);
  scope.serials.addRange(lo, hi);
}

function parseSerialBitmap(sub: SshReader, scope: CaScope): void {
  const start = sub.uint64('serial_offset');
  const bits = mpint(sub, 'revoked_keys_bitmap');
  const nbits = bitLength(bits);
  if (nbits === 0) return;
  const end = start + BigInt(nbits - 1);
  if (end > U64_MAX) sub.fail(`bitmap at offset ${start} runs past the largest serial`);
  if (start === 0n && testBit(bits, 0)) sub.fail('bitmap revokes serial 0 (OpenSSH refuses such a KRL)');
  scope.serials.addBitmap({ start, end, bits });
}

function parseKeyIds(sub: SshReader, scope: CaScope): void {
  while (sub.remaining > 0) scope.keyIds.add(keyIdKey(cstring(sub, 'key id')));
}

/** Extension sections: OpenSSH knows none, so only non-critical ones may be skipped. */
function parseExtension(r: SshReader): void {
  const name = cstring(r, 'extension name').toString('utf8');
  const critical = r.byte('extension critical flag');
  r.string('extension contents');
  r.end('the extension');
  if (critical !== 0) r.fail(`unsupported critical extension ${JSON.stringify(name)}`);
}

function parseCertificates(data: Buffer, builder: KrlBuilder): void {
  const r = reader(data, 'KRL certificate section');
  const caBlob = r.string('CA key');
  r.string('reserved');
  const scope = builder.scope(caBlob);
  while (r.remaining > 0) {
    const type = r.byte('subsection type');
    const sub = reader(r.string(`subsection ${hex(type)}`), `KRL certificate subsection ${hex(type)}`);
    switch (type) {
      case CERT_SERIAL_LIST:
        parseSerialList(sub, scope);
        break;
      case CERT_SERIAL_RANGE:
        parseSerialRange(sub, scope);
        break;
      case CERT_SERIAL_BITMAP:
        parseSerialBitmap(sub, scope);
        break;
      case CERT_KEY_ID:
        parseKeyIds(sub, scope);
        break;
      case CERT_EXTENSION:
        parseExtension(sub);
        break;
      default:
        r.fail(`unknown certificate subsection type ${hex(type)}`);
    }
    sub.end('its data');
  }
}

function parseBlobs(data: Buffer, what: string, target: Set<string>, length?: number): void {
  const r = reader(data, `KRL ${what} section`);
  while (r.remaining > 0) {
    const blob = r.string(what);
    if (length !== undefined && blob.length !== length) r.fail(`${what} is ${blob.length} bytes, not ${length}`);
    target.add(blob.toString('latin1'));
  }
}

function parseSection(r: SshReader, builder: KrlBuilder): void {
  const type = r.byte('section type');
  if (type === SECTION_SIGNATURE) {
    r.fail('signed KRLs are not supported (OpenSSH dropped KRL signatures; sign the file with `ssh-keygen -Y sign` instead)');
  }
  const data = r.string(`section ${hex(type)}`);
  switch (type) {
    case SECTION_CERTIFICATES:
      return parseCertificates(data, builder);
    case SECTION_EXPLICIT_KEY:
      return parseBlobs(data, 'public key', builder.explicitKeys);
    case SECTION_FINGERPRINT_SHA1:
      return parseBlobs(data, 'SHA1 hash', builder.sha1s, 20);
    case SECTION_FINGERPRINT_SHA256:
      return parseBlobs(data, 'SHA256 hash', builder.sha256s, 32);
    case SECTION_EXTENSION:
      return parseExtension(reader(data, 'KRL extension section'));
    default:
      r.fail(`unknown section type ${hex(type)}`);
  }
}

interface Header {
  version: bigint;
  generatedAt: Date;
  comment: string;
}

function parseHeader(r: SshReader): Header {
  if (r.remaining < MAGIC.length || !r.bytes(MAGIC.length, 'magic').equals(MAGIC)) {
    r.fail('bad magic: not an OpenSSH KRL (it must start with "SSHKRL\\n\\0")');
  }
  const format = r.uint32('format version');
  if (format !== FORMAT_VERSION) r.fail(`unsupported format version ${format} (expected ${FORMAT_VERSION})`);
  const version = r.uint64('krl_version');
  const generated = r.uint64('generated_date');
  r.uint64('flags');
  r.string('reserved');
  const comment = cstring(r, 'comment').toString('utf8');
  if (generated > MAX_DATE_SECONDS) r.fail(`generated_date ${generated} is not a representable time`);
  return { version, generatedAt: new Date(Number(generated) * 1000), comment };
}

// ---------------------------------------------------------------------------

export class Krl {
  readonly version: bigint;
  readonly generatedAt: Date;
  readonly comment: string;

  private constructor(
    header: Header,
    private readonly explicitKeys: Set<string>,
    private readonly sha1s: Set<string>,
    private readonly sha256s: Set<string>,
    private readonly cas: Map<string, CaRevocations>,
    private readonly wildcard: CaRevocations | undefined,
  ) {
    this.version = header.version;
    this.generatedAt = header.generatedAt;
    this.comment = header.comment;
  }

  /** Parses a KRL file; any defect is a CertError with code `krl.malformed`. */
  static parse(buf: Buffer): Krl {
    const bytes = asBuffer(buf);
    const r = reader(bytes, 'KRL');
    if (bytes.length > MAX_KRL_BYTES) r.fail(`${bytes.length} bytes is larger than OpenSSH accepts (${MAX_KRL_BYTES})`);
    const header = parseHeader(r);
    const builder = new KrlBuilder();
    while (r.remaining > 0) parseSection(r, builder);
    const cas = new Map([...builder.cas].map(([key, scope]) => [key, finish(scope)]));
    const wildcard = builder.wildcard && finish(builder.wildcard);
    return new Krl(header, builder.explicitKeys, builder.sha1s, builder.sha256s, cas, wildcard);
  }

  /**
   * Whether the KRL revokes a key or certificate, as OpenSSH's
   * `ssh_krl_check_key`: the plain key by hash or blob; a certificate by key
   * id or serial under its CA or the wildcard CA; and its CA key as a plain key.
   */
  check(subject: RevocationSubject): Revocation | null {
    const key = this.keyRevocation(subject.keyBlob, 'key');
    if (key !== null || subject.caKeyBlob === undefined) return key;
    return this.certRevocation(subject, subject.caKeyBlob) ?? this.keyRevocation(subject.caKeyBlob, 'CA key');
  }

  private keyRevocation(blob: Buffer, label: string): Revocation | null {
    const how = this.sha1s.has(createHash('sha1').update(blob).digest().toString('latin1'))
      ? 'by SHA1 hash'
      : this.sha256s.has(createHash('sha256').update(blob).digest().toString('latin1'))
        ? 'by SHA256 hash'
        : this.explicitKeys.has(blob.toString('latin1'))
          ? 'explicitly'
          : null;
    return how === null ? null : { revoked: true, reason: `${label} ${fingerprint(blob)} revoked ${how}` };
  }

  private certRevocation(subject: RevocationSubject, caBlob: Buffer): Revocation | null {
    const scopes: Array<[CaRevocations | undefined, string]> = [
      [this.cas.get(lookupKey(caBlob)), `CA ${fingerprint(caBlob)}`],
      [this.wildcard, 'any CA'],
    ];
    for (const [scope, name] of scopes) {
      if (scope === undefined) continue;
      if (subject.keyId !== undefined && scope.keyIds.has(keyIdKey(Buffer.from(subject.keyId, 'utf8')))) {
        return { revoked: true, reason: `key id ${JSON.stringify(subject.keyId)} revoked for ${name}` };
      }
      // Serial 0 is what a CA uses when it assigns none, so OpenSSH never matches it by serial.
      if (subject.serial !== undefined && subject.serial !== 0n && scope.serials.has(subject.serial)) {
        return { revoked: true, reason: `serial ${subject.serial} revoked for ${name}` };
      }
    }
    return null;
  }
}

function asBuffer(input: unknown): Buffer {
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new CertError('krl.malformed', 'KRL is malformed: expected the bytes of a KRL file');
}

function lookupKey(caBlob: Buffer): string {
  try {
    return canonicalKey(caBlob, 'CA key').toString('latin1');
  } catch {
    return caBlob.toString('latin1');
  }
}

export function parseKrl(buf: Buffer): Krl {
  return Krl.parse(buf);
}
