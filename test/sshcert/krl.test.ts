import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertError } from '../../src/sshcert/errors.js';
import { Krl, parseKrl, type RevocationSubject } from '../../src/sshcert/krl.js';
import { SshReader, SshWriter } from '../../src/sshcert/wire.js';
import { seededRandom } from '../helpers/prng.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

requireTool('ssh-keygen', 'openssh-client');
const dir = tempDir(t, 'pushgate-krl-');
const U64_MAX = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------
// Fixture: CAs, user keys and certificates made by ssh-keygen

function keygen(name: string, type: string, bits?: number): string {
  const path = join(dir, name);
  run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', `${name}@test`, '-f', path]);
  return path;
}

function pubLine(path: string): string {
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

function pubBlob(path: string): Buffer {
  return Buffer.from(pubLine(path).split(' ')[1]!, 'base64');
}

interface Subject {
  label: string;
  /** What `ssh-keygen -Q` is given: a certificate or a plain .pub file. */
  file: string;
  subject: RevocationSubject;
  ca?: string;
}

/** Signs copies of `key` with consecutive serials from `first` in one ssh-keygen run (`-z +N`). */
function sign(ca: string, key: string, keyId: string, first: bigint, count = 1): Subject[] {
  const caName = ca.split('/').pop()!;
  const keyName = key.split('/').pop()!;
  const made: Subject[] = [];
  const inputs: string[] = [];
  for (let i = 0n; i < BigInt(count); i++) {
    const base = join(dir, `${caName}-${keyName}-${first + i}`);
    copyFileSync(`${key}.pub`, `${base}.pub`);
    inputs.push(`${base}.pub`);
    made.push({
      label: `${caName}/${keyName} serial ${first + i} id ${keyId}`,
      file: `${base}-cert.pub`,
      subject: { keyBlob: pubBlob(key), caKeyBlob: pubBlob(ca), serial: first + i, keyId },
      ca: caName,
    });
  }
  const serial = count > 1 ? `+${first}` : String(first);
  run('ssh-keygen', ['-q', '-s', ca, '-I', keyId, '-n', 'p', '-z', serial, '-V', '+5m', ...inputs]);
  return made;
}

function plain(key: string): Subject {
  return { label: `plain ${key.split('/').pop()}`, file: `${key}.pub`, subject: { keyBlob: pubBlob(key) } };
}

const ca1 = keygen('ca1', 'ed25519');
const ca2 = keygen('ca2', 'ecdsa');
const ca3 = keygen('ca3', 'rsa', 2048);
const alice = keygen('alice', 'ed25519');
const bob = keygen('bob', 'ecdsa');
const carol = keygen('carol', 'rsa', 2048);
const dave = keygen('dave', 'ed25519');
const erin = keygen('erin', 'ed25519');
const frank = keygen('frank', 'ed25519');

const batch = sign(ca1, alice, 'batch-a', 0n, 320);
const specials = [
  ...sign(ca1, bob, 'bob', 1000n),
  ...sign(ca1, carol, 'carol', 5000n),
  ...sign(ca1, dave, 'dave@example.com', 1n << 63n),
  ...sign(ca1, erin, 'erin', U64_MAX),
  ...sign(ca1, frank, 'frank', 0n),
  ...sign(ca1, frank, 'x y', 70000n),
];
const ca2Certs = [...sign(ca2, alice, 'batch-a', 1n, 20), ...sign(ca2, bob, 'bob', 1000n)];
const ca3Certs = sign(ca3, dave, 'dave3', 7n);
const plains = [alice, bob, carol, dave, erin, frank, ca1, ca2, ca3].map(plain);
const all: Subject[] = [...batch, ...specials, ...ca2Certs, ...ca3Certs, ...plains];

// ---------------------------------------------------------------------------
// Oracle: ssh-keygen -k builds KRLs, ssh-keygen -Q judges subjects

let krlCount = 0;

function makeKrl(spec: string[], options: { ca?: string; version?: number } = {}): string {
  const name = `krl-${++krlCount}`;
  writeFileSync(join(dir, `${name}.txt`), spec.join('\n') + '\n');
  const args = ['-k', '-f', join(dir, name)];
  if (options.ca) args.push('-s', `${options.ca}.pub`);
  if (options.version !== undefined) args.push('-z', String(options.version));
  run('ssh-keygen', [...args, join(dir, `${name}.txt`)]);
  return join(dir, name);
}

function writeKrl(bytes: Buffer): string {
  const path = join(dir, `krl-${++krlCount}`);
  writeFileSync(path, bytes);
  return path;
}

interface Verdicts {
  status: number | null;
  revoked: Map<string, boolean>;
}

function sshKeygenQuery(krlPath: string, subjects: Subject[]): Verdicts {
  const files = subjects.map((s) => s.file);
  const result = spawnSync('ssh-keygen', ['-Q', '-f', krlPath, ...files], { encoding: 'utf8' });
  const revoked = new Map<string, boolean>();
  if (result.status === 0 || result.status === 1) {
    const lines = result.stdout.trim().split('\n');
    files.forEach((file, i) => {
      const line = lines[i] ?? '';
      if (!line.startsWith(file)) throw new Error(`unexpected ssh-keygen -Q output: ${line}`);
      revoked.set(file, line.endsWith(': REVOKED'));
    });
  }
  return { status: result.status, revoked };
}

/** Checks every subject with both readers; returns the labels both call revoked. */
function agree(tt: Test, krlPath: string, subjects: Subject[] = all): Set<string> {
  const krl = parseKrl(readFileSync(krlPath));
  const oracle = sshKeygenQuery(krlPath, subjects);
  tt.ok(oracle.status === 0 || oracle.status === 1, 'ssh-keygen accepts the KRL');
  const mismatches: string[] = [];
  const revoked = new Set<string>();
  for (const s of subjects) {
    const ours = krl.check(s.subject) !== null;
    if (ours !== oracle.revoked.get(s.file)) mismatches.push(`${s.label}: ours ${ours}, ssh-keygen ${oracle.revoked.get(s.file)}`);
    if (ours) revoked.add(s.label);
  }
  tt.same(mismatches, [], `reader and ssh-keygen agree on ${subjects.length} subjects`);
  return revoked;
}

function labels(subjects: Subject[], pick: (s: Subject) => boolean): Set<string> {
  return new Set(subjects.filter(pick).map((s) => s.label));
}

function serialOf(s: Subject): bigint | undefined {
  return s.subject.serial;
}

// ---------------------------------------------------------------------------
// Hand-built KRLs, for what ssh-keygen -k cannot write

function u64s(...values: bigint[]): Buffer {
  const w = new SshWriter();
  for (const v of values) w.uint64(v);
  return w.toBuffer();
}

function strings(...values: Array<Buffer | string>): Buffer {
  const w = new SshWriter();
  for (const v of values) w.string(v);
  return w.toBuffer();
}

function bitmapBody(offset: bigint, serials: bigint[]): Buffer {
  const top = serials.reduce((m, s) => (s > m ? s : m), offset) - offset;
  const bits = Buffer.alloc(Number(top / 8n) + 1);
  for (const s of serials) {
    const k = Number(s - offset);
    bits[bits.length - 1 - (k >>> 3)]! |= 1 << (k & 7);
  }
  return new SshWriter().uint64(offset).mpint(bits).toBuffer();
}

type Part = [type: number, body: Buffer];

function certSection(caBlob: Buffer, subsections: Part[]): Part {
  const w = new SshWriter().string(caBlob).string('');
  for (const [type, body] of subsections) w.byte(type).string(body);
  return [1, w.toBuffer()];
}

interface Header {
  magic?: Buffer;
  format?: number;
  version?: bigint;
  date?: bigint;
  comment?: Buffer | string;
}

function krlBytes(sections: Part[], header: Header = {}): Buffer {
  const w = new SshWriter()
    .raw(header.magic ?? Buffer.from('SSHKRL\n\0', 'latin1'))
    .uint32(header.format ?? 1)
    .uint64(header.version ?? 3n)
    .uint64(header.date ?? 1_700_000_000n)
    .uint64(0n)
    .string('')
    .string(header.comment ?? '');
  for (const [type, body] of sections) w.byte(type).string(body);
  return w.toBuffer();
}

function throwsMalformed(tt: Test, bytes: Buffer, pattern: RegExp, name: string): void {
  tt.throws(() => Krl.parse(bytes), { name: 'CertError', code: 'krl.malformed', message: pattern }, name);
}

/** Section layout as `type` / `type:subtype` strings, to show which encodings a KRL uses. */
function layout(bytes: Buffer): string[] {
  const r = new SshReader(bytes, 'krl.malformed', 'KRL');
  r.bytes(8);
  r.uint32();
  r.uint64();
  r.uint64();
  r.uint64();
  r.string();
  r.string();
  const out: string[] = [];
  while (r.remaining > 0) {
    const type = r.byte();
    const body = r.string();
    out.push(String(type));
    if (type !== 1) continue;
    const s = new SshReader(body, 'krl.malformed', 'section');
    s.string();
    s.string();
    while (s.remaining > 0) {
      out.push(`1:0x${s.byte().toString(16)}`);
      s.string();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

t.test('header fields', (tt) => {
  const before = Math.floor(Date.now() / 1000);
  const path = makeKrl(['serial: 1'], { ca: ca1, version: 42 });
  const krl = parseKrl(readFileSync(path));
  tt.equal(krl.version, 42n);
  tt.equal(krl.comment, '');
  tt.ok(Math.abs(krl.generatedAt.getTime() / 1000 - before) < 120, 'generatedAt is the time ssh-keygen wrote it');

  const built = Krl.parse(krlBytes([], { version: U64_MAX, date: 1_700_000_000n, comment: 'rotated by ops ✓' }));
  tt.equal(built.version, U64_MAX);
  tt.equal(built.generatedAt.toISOString(), '2023-11-14T22:13:20.000Z');
  tt.equal(built.comment, 'rotated by ops ✓');
  tt.equal(built.check({ keyBlob: pubBlob(alice) }), null, 'an empty KRL revokes nothing');
  tt.end();
});

t.test('serial list section', (tt) => {
  const serials = [3n, 90n, 250n, 1000n, 5000n];
  const path = makeKrl(serials.map((s) => `serial: ${s}`), { ca: ca1 });
  tt.ok(layout(readFileSync(path)).includes('1:0x20'), 'ssh-keygen wrote a serial list');
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' && serials.includes(serialOf(s)!)), 'exactly the listed serials of ca1');
  tt.end();
});

t.test('serial bitmap section', (tt) => {
  const serials: bigint[] = [];
  for (let s = 1n; s < 200n; s += 2n) serials.push(s);
  for (let s = 230n; s < 300n; s += 3n) serials.push(s);
  const path = makeKrl(serials.map((s) => `serial: ${s}`), { ca: ca1 });
  tt.ok(layout(readFileSync(path)).includes('1:0x22'), 'ssh-keygen wrote a bitmap');
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' && serials.includes(serialOf(s)!)));
  tt.end();
});

t.test('serial range up to the largest serial', (tt) => {
  const path = makeKrl(['serial: 100-18446744073709551615'], { ca: ca1 });
  tt.ok(layout(readFileSync(path)).includes('1:0x21'), 'ssh-keygen wrote a range');
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' && serialOf(s)! >= 100n));
  const erinCert = specials.find((s) => s.subject.serial === U64_MAX)!;
  const reason = parseKrl(readFileSync(path)).check(erinCert.subject)?.reason;
  const caFingerprint = run('ssh-keygen', ['-l', '-f', `${ca1}.pub`]).split(' ')[1];
  tt.equal(reason, `serial 18446744073709551615 revoked for CA ${caFingerprint}`);
  tt.end();
});

t.test('serial 0 is never revoked by serial', (tt) => {
  const path = makeKrl(['serial: 1-18446744073709551615'], { ca: ca1 });
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' && serialOf(s) !== 0n));
  const krl = parseKrl(readFileSync(path));
  tt.equal(krl.check({ ...batch[0]!.subject, serial: 0n }), null);
  tt.ok(krl.check({ ...batch[0]!.subject, serial: 1n }));
  tt.end();
});

t.test('list, ranges and bitmap mixed, serials in hex and octal', (tt) => {
  const spec = ['serial: 5', 'serial: 10-12', 'serial: 0x1388', 'serial: 0100', 'serial: 40-45'];
  for (let s = 200; s < 260; s += 2) spec.push(`serial: ${s}`);
  const path = makeKrl(spec, { ca: ca1 });
  const kinds = new Set(layout(readFileSync(path)));
  tt.ok(kinds.has('1:0x22') && (kinds.has('1:0x20') || kinds.has('1:0x21')), `several encodings: ${[...kinds].join(' ')}`);
  const expected = (n: bigint) =>
    n === 5n || (n >= 10n && n <= 12n) || n === 5000n || n === 64n || (n >= 40n && n <= 45n) || (n >= 200n && n < 260n && n % 2n === 0n);
  tt.same(agree(tt, path), labels(all, (s) => s.ca === 'ca1' && expected(serialOf(s)!)));
  tt.end();
});

t.test('key ids are scoped to their CA and ignore the serial', (tt) => {
  const path = makeKrl(['id: batch-a', 'id: x y', 'id: frank'], { ca: ca1 });
  tt.ok(layout(readFileSync(path)).includes('1:0x23'), 'ssh-keygen wrote a key id subsection');
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' && ['batch-a', 'x y', 'frank'].includes(s.subject.keyId!)));
  tt.ok(revoked.has(batch[0]!.label), 'serial 0 certificate revoked by key id');
  const reason = parseKrl(readFileSync(path)).check(specials.find((s) => s.subject.keyId === 'x y')!.subject)?.reason;
  tt.match(reason, /^key id "x y" revoked for CA SHA256:/);
  tt.end();
});

t.test('plain keys by blob, SHA1, SHA256 and fingerprint', (tt) => {
  const erinFingerprint = run('ssh-keygen', ['-l', '-f', `${erin}.pub`]).split(' ')[1];
  const path = makeKrl([`key: ${pubLine(bob)}`, `sha1: ${pubLine(carol)}`, `sha256: ${pubLine(dave)}`, `hash: ${erinFingerprint}`]);
  const kinds = layout(readFileSync(path));
  tt.ok(kinds.includes('2') && kinds.includes('3') && kinds.includes('5'), `sections ${kinds.join(' ')}`);
  const gone = [bob, carol, dave, erin].map(pubBlob);
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => gone.some((b) => b.equals(s.subject.keyBlob))), 'the keys and every certificate for them');
  const krl = parseKrl(readFileSync(path));
  tt.equal(krl.check({ keyBlob: pubBlob(bob) })?.reason, `key ${run('ssh-keygen', ['-l', '-f', `${bob}.pub`]).split(' ')[1]} revoked explicitly`);
  tt.match(krl.check({ keyBlob: pubBlob(carol) })?.reason, /revoked by SHA1 hash$/);
  tt.match(krl.check({ keyBlob: pubBlob(dave) })?.reason, /revoked by SHA256 hash$/);
  tt.match(krl.check({ keyBlob: pubBlob(erin) })?.reason, /revoked by SHA256 hash$/);
  tt.end();
});

t.test('a revoked CA key revokes what it signed', (tt) => {
  const path = makeKrl([`key: ${pubLine(ca1)}`]);
  const revoked = agree(tt, path);
  tt.same(revoked, labels(all, (s) => s.ca === 'ca1' || s.label === 'plain ca1'));
  const krl = parseKrl(readFileSync(path));
  tt.match(krl.check({ keyBlob: pubBlob(ca1) })?.reason, /^key SHA256:\S+ revoked explicitly$/, 'the CA key itself');
  tt.match(krl.check(batch[5]!.subject)?.reason, /^CA key SHA256:\S+ revoked explicitly$/, 'through a certificate');
  tt.end();
});

t.test('random specifications agree with ssh-keygen and with a model', (tt) => {
  const rand = seededRandom(20240611);
  for (let round = 0; round < 8; round++) {
    const density = [0.02, 0.1, 0.5, 0.9][round % 4]!;
    const serials = new Set<bigint>();
    for (let s = 1n; s < 330n; s++) if (rand() < density) serials.add(s);
    const ranges: Array<[bigint, bigint]> = [];
    if (round % 2 === 1) {
      // ssh-keygen refuses a one-serial range such as `serial: 53-53`.
      const lo = BigInt(1 + Math.floor(rand() * 300));
      ranges.push([lo, lo + 1n + BigInt(Math.floor(rand() * 40))]);
    }
    if (round === 7) ranges.push([4000n, 1n << 63n]);
    const ids = round % 3 === 0 ? ['bob'] : [];
    const spec = [...[...serials].map((s) => `serial: ${s}`), ...ranges.map(([a, b]) => `serial: ${a}-${b}`), ...ids.map((i) => `id: ${i}`)];
    const path = makeKrl(spec, { ca: ca1 });
    const model = (s: Subject): boolean => {
      if (s.ca !== 'ca1') return false;
      const n = s.subject.serial!;
      if (ids.includes(s.subject.keyId!)) return true;
      return n !== 0n && (serials.has(n) || ranges.some(([a, b]) => n >= a && n <= b));
    };
    tt.same(agree(tt, path), labels(all, model), `round ${round}: ${layout(readFileSync(path)).join(' ')}`);
  }
  tt.end();
});

t.test('hand-built KRLs ssh-keygen cannot write, judged by ssh-keygen -Q', (tt) => {
  const ca1Blob = pubBlob(ca1);
  const ca2Blob = pubBlob(ca2);

  tt.test('wildcard CA: key ids and serials under any CA', (t2) => {
    const path = writeKrl(
      krlBytes([certSection(Buffer.alloc(0), [[0x23, strings('bob')], [0x20, u64s(7n, 1000n)]])]),
    );
    const revoked = agree(t2, path);
    t2.same(revoked, labels(all, (s) => s.subject.keyId === 'bob' || (s.ca !== undefined && [7n, 1000n].includes(serialOf(s)!))));
    t2.match(parseKrl(readFileSync(path)).check(ca2Certs.at(-1)!.subject)?.reason, /^key id "bob" revoked for any CA$/);
    t2.end();
  });

  tt.test('several sections for one CA are merged, overlapping bitmaps included', (t2) => {
    const path = writeKrl(
      krlBytes([
        certSection(ca1Blob, [[0x22, bitmapBody(10n, [10n, 12n, 30n])], [0x20, u64s(250n, 3n)]]),
        certSection(ca2Blob, [[0x21, u64s(2n, 4n)]]),
        certSection(ca1Blob, [[0x22, bitmapBody(11n, [11n, 29n, 31n])], [0x21, u64s(100n, 120n)], [0x21, u64s(110n, 140n)]]),
        certSection(ca1Blob, [[0x22, bitmapBody(25n, [26n, 40n])], [0x22, bitmapBody(0n, [])]]),
      ]),
    );
    const ca1Revoked = [10n, 12n, 30n, 250n, 3n, 11n, 29n, 31n, 26n, 40n];
    const expected = (s: Subject) =>
      (s.ca === 'ca1' && (ca1Revoked.includes(serialOf(s)!) || (serialOf(s)! >= 100n && serialOf(s)! <= 140n))) ||
      (s.ca === 'ca2' && serialOf(s)! >= 2n && serialOf(s)! <= 4n);
    t2.same(agree(t2, path), labels(all, expected));
    t2.end();
  });

  tt.test('a CA key spelled with superfluous mpint zeros still names its CA', (t2) => {
    const r = new SshReader(pubBlob(ca3), 'krl.malformed', 'key');
    const type = r.string();
    const e = r.string();
    const n = r.string();
    const padded = new SshWriter()
      .string(type)
      .string(Buffer.concat([Buffer.alloc(2), e]))
      .string(Buffer.concat([Buffer.alloc(1), n]))
      .toBuffer();
    const path = writeKrl(krlBytes([certSection(padded, [[0x20, u64s(7n)]])]));
    t2.same(agree(t2, path), labels(all, (s) => s.ca === 'ca3'));
    t2.end();
  });

  tt.test('CA keys of every type OpenSSH reads', (t2) => {
    const q = new SshReader(pubBlob(ca2), 'krl.malformed', 'key');
    q.string();
    q.string();
    const point = q.string();
    const scopes = [
      strings('sk-ssh-ed25519@openssh.com', pubBlob(ca1).subarray(19), 'ssh:'),
      strings('sk-ecdsa-sha2-nistp256@openssh.com', 'nistp256', point, 'ssh:'),
      pubBlob(keygen('ca-p521', 'ecdsa', 521)),
    ];
    const path = writeKrl(krlBytes(scopes.map((blob) => certSection(blob, [[0x20, u64s(9n)]]))));
    t2.same(agree(t2, path), new Set(), 'none of these CAs signed a fixture certificate');
    const krl = parseKrl(readFileSync(path));
    t2.ok(krl.check({ ...batch[9]!.subject, caKeyBlob: scopes[2]! }), 'a certificate of the sk-ecdsa CA is revoked');
    t2.equal(krl.check({ ...batch[9]!.subject, caKeyBlob: Buffer.from('junk') }), null, 'an unparseable CA blob matches nothing');
    // DSA is built by hand: OpenSSH 10 can neither generate nor read it any more.
    const dsa = new SshWriter().string('ssh-dss');
    for (const byte of [0x71, 0x13, 0x05, 0x2a]) dsa.mpint(Buffer.alloc(128, byte));
    const dsaKrl = Krl.parse(krlBytes([certSection(dsa.toBuffer(), [[0x20, u64s(9n)]])]));
    t2.ok(dsaKrl.check({ ...batch[9]!.subject, caKeyBlob: dsa.toBuffer() }), 'a DSA CA scope');
    t2.end();
  });

  tt.test('a bitmap with a leading zero byte and one at the largest serial', (t2) => {
    const raw = new SshWriter().uint64(0n).string(Buffer.from([0x00, 0x80, 0x02])).toBuffer();
    const top = new SshWriter().uint64(U64_MAX - 7n).mpint(Buffer.from([0x80])).toBuffer();
    const path = writeKrl(krlBytes([certSection(ca1Blob, [[0x22, raw], [0x22, top]])]));
    t2.same(agree(t2, path), labels(all, (s) => s.ca === 'ca1' && [1n, 15n, U64_MAX].includes(serialOf(s)!)));
    t2.end();
  });
  tt.end();
});

t.test('malformed KRLs: refused by ssh-keygen and by the reader', (tt) => {
  const ca1Blob = pubBlob(ca1);
  const good = krlBytes([certSection(ca1Blob, [[0x20, u64s(5n)]])]);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty file', Buffer.alloc(0), /bad magic/],
    ['bad magic', Buffer.concat([Buffer.from('SSHKRL\n\x01'), good.subarray(8)]), /bad magic/],
    ['a public key file', readFileSync(`${alice}.pub`), /bad magic/],
    ['truncated header', good.subarray(0, 20), /runs past the end/],
    ['format version 2', krlBytes([], { format: 2 }), /format version 2/],
    ['comment with a NUL', krlBytes([], { comment: Buffer.from('a\0b') }), /comment contains a NUL/],
    ['trailing garbage', Buffer.concat([good, Buffer.from([1])]), /runs past the end/],
    ['truncated section', good.subarray(0, good.length - 3), /runs past the end/],
    ['unknown section type', krlBytes([[6, Buffer.alloc(0)]]), /unknown section type 0x06/],
    ['signature section', krlBytes([[4, strings(ca1Blob)]]), /signed KRLs are not supported/],
    ['unknown certificate subsection', krlBytes([certSection(ca1Blob, [[0x24, Buffer.alloc(0)]])]), /unknown certificate subsection type 0x24/],
    ['serial 0 in a list', krlBytes([certSection(ca1Blob, [[0x20, u64s(4n, 0n)]])]), /serial 0/],
    ['serial list with a partial entry', krlBytes([certSection(ca1Blob, [[0x20, Buffer.concat([u64s(4n), Buffer.alloc(3)])]])]), /serial runs past/],
    ['range from 0', krlBytes([certSection(ca1Blob, [[0x21, u64s(0n, 9n)]])]), /starts at 0/],
    ['reversed range', krlBytes([certSection(ca1Blob, [[0x21, u64s(9n, 8n)]])]), /reversed/],
    ['range with extra bytes', krlBytes([certSection(ca1Blob, [[0x21, u64s(1n, 2n, 3n)]])]), /8 unexpected bytes/],
    ['bitmap revoking serial 0', krlBytes([certSection(ca1Blob, [[0x22, bitmapBody(0n, [0n, 3n])]])]), /serial 0/],
    ['bitmap past the largest serial', krlBytes([certSection(ca1Blob, [[0x22, bitmapBody(U64_MAX - 3n, [U64_MAX - 3n, U64_MAX + 1n])]])]), /runs past the largest serial/],
    ['negative bitmap', krlBytes([certSection(ca1Blob, [[0x22, Buffer.concat([u64s(8n), strings(Buffer.from([0x80]))])]])]), /negative/],
    ['bitmap larger than OpenSSH reads', krlBytes([certSection(ca1Blob, [[0x22, Buffer.concat([u64s(8n), strings(Buffer.alloc(2049, 1))])]])]), /longer than 2048/],
    ['key id with a NUL', krlBytes([certSection(ca1Blob, [[0x23, strings('a\0b')]])]), /key id contains a NUL/],
    ['CA key of an unknown type', krlBytes([certSection(strings('ssh-foo', 'x'), [[0x20, u64s(5n)]])]), /unsupported key type "ssh-foo"/],
    ['CA key with trailing bytes', krlBytes([certSection(Buffer.concat([ca1Blob, Buffer.alloc(1)]), [[0x20, u64s(5n)]])]), /unexpected bytes after the key/],
    ['short Ed25519 CA key', krlBytes([certSection(strings('ssh-ed25519', Buffer.alloc(31)), [])]), /31 bytes, not 32/],
    ['EC point off the curve', krlBytes([certSection(strings('ecdsa-sha2-nistp256', 'nistp256', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])), [])]), /not on curve/],
    ['SHA1 hash of the wrong length', krlBytes([[3, strings(Buffer.alloc(19))]]), /SHA1 hash is 19 bytes, not 20/],
    ['SHA256 hash of the wrong length', krlBytes([[5, strings(Buffer.alloc(20))]]), /SHA256 hash is 20 bytes, not 32/],
    ['explicit key section with a partial entry', krlBytes([[2, Buffer.from([0, 0, 0, 9, 1])]]), /runs past the end/],
    ['critical extension', krlBytes([[255, Buffer.concat([strings('x@example.com'), Buffer.from([1]), strings('')])]]), /unsupported critical extension "x@example.com"/],
    ['critical certificate extension', krlBytes([certSection(ca1Blob, [[0x39, Buffer.concat([strings('y'), Buffer.from([1]), strings('')])]])]), /critical extension "y"/],
  ];
  for (const [name, bytes, pattern] of cases) {
    throwsMalformed(tt, bytes, pattern, name);
    const oracle = sshKeygenQuery(writeKrl(bytes), [plains[0]!]);
    tt.equal(oracle.status, 255, `ssh-keygen refuses it too: ${name}`);
  }
  tt.end();
});

t.test('where the reader deliberately differs from ssh-keygen', (tt) => {
  // Current OpenSSH skips non-critical extensions; older releases refuse every extension section.
  const ext = Buffer.concat([strings('note@example.com'), Buffer.from([0]), strings('hello')]);
  const krl = Krl.parse(krlBytes([[255, ext], certSection(pubBlob(ca1), [[0x39, ext], [0x20, u64s(9n)]])]));
  tt.ok(krl.check(batch[9]!.subject), 'non-critical extensions are skipped');
  throwsMalformed(tt, krlBytes([[255, Buffer.concat([ext, Buffer.alloc(1)])]]), /unexpected bytes after the extension/, 'extension with trailing bytes');
  // OpenSSH would accept a certificate as a CA scope that can never match; refusing it is simpler.
  const cert = pubBlob(join(dir, 'ca1-bob-1000-cert'));
  throwsMalformed(tt, krlBytes([certSection(cert, [[0x20, u64s(5n)]])]), /unsupported key type ".*-cert-v01@openssh.com"/, 'certificate as CA key');
  throwsMalformed(tt, krlBytes([], { date: U64_MAX }), /generated_date .* not a representable time/, 'absurd generated_date');
  throwsMalformed(tt, Buffer.alloc(0x8000001), /larger than OpenSSH accepts/, 'file over 128 MiB');
  tt.throws(() => Krl.parse('SSHKRL' as unknown as Buffer), { name: 'CertError', code: 'krl.malformed' }, 'not bytes');
  const view = new Uint8Array(krlBytes([certSection(pubBlob(ca1), [[0x20, u64s(9n)]])]));
  tt.ok(Krl.parse(view as Buffer).check(batch[9]!.subject), 'a plain Uint8Array is read too');
  tt.end();
});

t.test('hostile sizes stay cheap', (tt) => {
  const rand = seededRandom(7);
  const ca1Blob = pubBlob(ca1);
  const subsections: Part[] = [];
  const revoked = new Set<bigint>();
  for (let i = 0; i < 300; i++) {
    const offset = BigInt(1 + Math.floor(rand() * 100_000));
    const bits = Buffer.alloc(2048);
    for (let j = 0; j < 200; j++) bits[Math.floor(rand() * 2048)] = Math.floor(rand() * 256);
    bits[0] = 1 + Math.floor(rand() * 127);
    for (let k = 0; k < 2048 * 8; k++) if ((bits[2047 - (k >>> 3)]! >>> (k & 7)) & 1) revoked.add(offset + BigInt(k));
    subsections.push([0x22, new SshWriter().uint64(offset).mpint(bits).toBuffer()]);
  }
  subsections.push([0x21, u64s(1n << 40n, U64_MAX)]);
  for (let i = 0; i < 20_000; i++) subsections.push([0x20, u64s(BigInt(200_000 + i * 3))]);
  const bytes = krlBytes([certSection(ca1Blob, subsections)]);
  const started = performance.now();
  const krl = Krl.parse(bytes);
  const subject = (serial: bigint): RevocationSubject => ({ ...batch[1]!.subject, serial });
  const wrong: bigint[] = [];
  for (let i = 0; i < 20_000; i++) {
    const serial = BigInt(Math.floor(rand() * 300_000));
    const expected = serial !== 0n && (revoked.has(serial) || (serial >= 200_000n && serial < 260_000n && serial % 3n === 2n));
    if ((krl.check(subject(serial)) !== null) !== expected) wrong.push(serial);
  }
  tt.same(wrong, [], 'overlapping bitmaps, lists and ranges answer like a plain set');
  tt.ok(krl.check(subject((1n << 40n) + 12345n)) && krl.check(subject(U64_MAX)), 'a 2^64-sized range is not expanded');
  tt.ok(performance.now() - started < 5000, `${bytes.length} bytes parsed and 20,000 checks in ${Math.round(performance.now() - started)} ms`);
  tt.end();
});

t.test('fuzz: mutated and truncated KRLs only ever fail with krl.malformed', (tt) => {
  const bases = [
    readFileSync(makeKrl(['serial: 5', 'serial: 10-12', 'serial: 7000-9000', 'id: batch-a', ...Array.from({ length: 30 }, (_, i) => `serial: ${100 + 2 * i}`)], { ca: ca1 })),
    readFileSync(makeKrl([`key: ${pubLine(bob)}`, `sha1: ${pubLine(carol)}`, `sha256: ${pubLine(dave)}`])),
    krlBytes([certSection(Buffer.alloc(0), [[0x23, strings('bob')], [0x22, bitmapBody(3n, [3n, 9n, 40n])]]), certSection(pubBlob(ca2), [[0x21, u64s(2n, 4n)]])]),
  ];
  const interesting32 = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff];
  const interesting64 = [0n, 1n, 2n, 1n << 63n, U64_MAX, U64_MAX - 1n];
  const rand = seededRandom(1337);
  const int = (n: number) => Math.floor(rand() * n);
  const mutate = (base: Buffer): Buffer => {
    const b = Buffer.from(base);
    switch (int(7)) {
      case 0:
        for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] = int(256);
        return b;
      case 1:
        return b.subarray(0, int(b.length));
      case 2: {
        const at = int(b.length + 1);
        return Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256))), b.subarray(at)]);
      }
      case 3: {
        const at = int(b.length);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(24))]);
      }
      case 4:
        if (b.length >= 4) b.writeUInt32BE(interesting32[int(interesting32.length)]!, int(b.length - 3));
        return b;
      case 5:
        if (b.length >= 8) b.writeBigUInt64BE(interesting64[int(interesting64.length)]!, int(b.length - 7));
        return b;
      default:
        return Buffer.concat([b, b.subarray(int(b.length))]);
    }
  };
  const sample = [...batch.slice(0, 12), ...specials, ...ca2Certs.slice(0, 4), ...plains];
  const unexpected: string[] = [];
  const disagreements: string[] = [];
  let parsed = 0;
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = mutate(bases[i % bases.length]!);
    let krl: Krl | undefined;
    let error: unknown;
    try {
      krl = Krl.parse(bytes);
      for (const s of sample) krl.check(s.subject);
      parsed++;
    } catch (err) {
      error = err;
      if (err instanceof CertError && err.code === 'krl.malformed') refused++;
      else unexpected.push(`#${i}: ${String(err)}`);
    }
    // Every 25th mutant also goes to ssh-keygen, differential style.
    if (i % 25 !== 0) continue;
    if (error instanceof CertError && /generated_date|extension|EC point|RSA modulus/.test(error.message)) continue;
    const oracle = sshKeygenQuery(writeKrl(bytes), sample);
    if ((oracle.status === 255) !== (krl === undefined)) {
      disagreements.push(`#${i}: ssh-keygen exit ${oracle.status}, reader ${krl ? 'parsed' : String(error)}`);
    } else if (krl) {
      for (const s of sample) {
        if ((krl.check(s.subject) !== null) !== oracle.revoked.get(s.file)) disagreements.push(`#${i}: ${s.label}`);
      }
    }
  }
  tt.same(unexpected, [], 'nothing but CertError(krl.malformed) is thrown');
  tt.same(disagreements, [], 'sampled mutants: reader and ssh-keygen agree');
  tt.ok(parsed > 100 && refused > 1000, `${parsed} parsed, ${refused} refused`);
  tt.end();
});
