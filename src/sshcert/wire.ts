import { CertError, type CertErrorCode } from './errors.js';

/**
 * Reader for the SSH wire encoding (RFC 4251 §5): byte, uint32, uint64,
 * string, mpint. Every read is bounds-checked and reports `code` on failure,
 * so hostile input can only ever produce a typed error.
 */
export class SshReader {
  private offset = 0;

  constructor(
    readonly buffer: Buffer,
    private readonly code: CertErrorCode = 'cert.malformed',
    private readonly what = 'data',
  ) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  fail(message: string): never {
    throw new CertError(this.code, `${this.what} is malformed: ${message}`);
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) this.fail(`${field} runs past the end (needs ${n} bytes, ${this.remaining} left)`);
  }

  byte(field = 'byte'): number {
    this.need(1, field);
    return this.buffer[this.offset++]!;
  }

  uint32(field = 'uint32'): number {
    this.need(4, field);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(field = 'uint64'): bigint {
    this.need(8, field);
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  bytes(n: number, field = 'bytes'): Buffer {
    this.need(n, field);
    const value = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return value;
  }

  string(field = 'string'): Buffer {
    const length = this.uint32(`${field} length`);
    return this.bytes(length, field);
  }

  /** A string that must be printable UTF-8 text (names, ids, principals). */
  text(field = 'text'): string {
    const raw = this.string(field);
    const value = raw.toString('utf8');
    if (!Buffer.from(value, 'utf8').equals(raw)) this.fail(`${field} is not valid UTF-8`);
    return value;
  }

  /** Positive mpint, returned as unsigned big-endian bytes without leading zeros. */
  mpintUnsigned(field = 'mpint'): Buffer {
    const raw = this.string(field);
    if (raw.length > 0 && raw[0]! & 0x80) this.fail(`${field} is negative`);
    if (raw.length > 1 && raw[0] === 0 && !(raw[1]! & 0x80)) this.fail(`${field} has a superfluous leading zero`);
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  end(field = 'data'): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} unexpected bytes after ${field}`);
  }
}

/** Writer for the SSH wire encoding. */
export class SshWriter {
  private readonly parts: Buffer[] = [];

  byte(value: number): this {
    this.parts.push(Buffer.from([value & 0xff]));
    return this;
  }

  uint32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0);
    this.parts.push(b);
    return this;
  }

  uint64(value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, value));
    this.parts.push(b);
    return this;
  }

  raw(value: Buffer): this {
    this.parts.push(value);
    return this;
  }

  string(value: Buffer | string): this {
    const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    this.uint32(b.length);
    this.parts.push(b);
    return this;
  }

  /** Unsigned big-endian magnitude → SSH mpint (adds a 0x00 when the top bit is set). */
  mpint(magnitude: Buffer): this {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = magnitude.subarray(start);
    const body = trimmed.length > 0 && trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return this.string(body);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
