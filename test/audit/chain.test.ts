import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  AuditError, canonicalJson, GENESIS, hashRecord, logFiles, nullAudit, openAudit, parseRecordLine, serializeRecord, verifyChain,
  type AuditEventInput, type AuditRecord,
} from '../../src/audit/index.js';
import { tempDir } from '../helpers/tools.js';
import { auditConfig, fileLines } from './fixtures/helpers.js';

function event(n: number): AuditEventInput {
  return { type: 'ssh.command', session: `s${n}`, identity: { principal: 'alice', roles: ['agent'] }, repository: 'team/app', command: 'git-receive-pack', result: 'ok' };
}

async function writeLog(file: string, count: number, options: Parameters<typeof openAudit>[1] = {}, config = auditConfig(file)): Promise<string[]> {
  const log = openAudit(config, options);
  for (let i = 1; i <= count; i++) await log.record(event(i));
  await log.close();
  return fileLines(file);
}

function rewrite(file: string, lines: string[]): void {
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

t.test('canonical JSON sorts keys at every depth and drops undefined', async (t) => {
  t.equal(canonicalJson({ b: 1, a: [{ d: 'x', c: null }], u: undefined, é: true }), '{"a":[{"c":null,"d":"x"}],"b":1,"é":true}');
});

t.test('records: v, time, seq from 1, type, fields, prev chained from genesis, hash', async (t) => {
  const file = join(tempDir(t), 'audit', 'audit.log');
  const lines = await writeLog(file, 3);
  t.equal(lines.length, 3);
  const records = lines.map((l) => (parseRecordLine(l) as { record: AuditRecord }).record);
  t.same(records.map((r) => r.seq), [1, 2, 3]);
  t.equal(records[0]!.prev, GENESIS);
  t.equal(records[1]!.prev, records[0]!.hash);
  t.match(records[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.same(Object.keys(JSON.parse(lines[0]!)), ['v', 'time', 'seq', 'type', 'session', 'identity', 'repository', 'command', 'result', 'prev', 'hash']);
  const { hash, ...body } = records[0]!;
  t.equal(hash, createHash('sha256').update(canonicalJson(body)).digest('hex'), 'SHA-256 over the canonical JSON without hash');
  t.equal(serializeRecord(records[0]!), lines[0]);
  t.equal((statSync(file).mode & 0o777).toString(8), '640');
  const verified = await verifyChain([file], { key: null });
  t.ok(verified.ok);
  t.equal(verified.records, 3);
  t.equal(verified.head?.hash, records[2]!.hash);
});

t.test('only schema fields reach the log', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const log = openAudit(auditConfig(file));
  await log.record({
    type: 'push.decision',
    identity: { principal: 'bob', token: 'eyJhbGciOi.secret' },
    findings: [{ ruleId: 'secret.github-token', title: 'GitHub token', action: 'deny', mode: 'enforce', excerpt: 'ghp_…abcd', value: 'ghp_plaintextsecretvalue0123456789', fix: 'rotate it' }],
    password: 'hunter2',
    bytesIn: Number.NaN,
    rules: ['a', 7, 'b'],
    reason: 'r'.repeat(10_000),
  } as unknown as AuditEventInput);
  await log.close();
  const text = readFileSync(file, 'utf8');
  for (const secret of ['eyJhbGciOi', 'ghp_plaintext', 'hunter2', 'GitHub token', 'rotate it', 'NaN']) t.notOk(text.includes(secret), `${secret} dropped`);
  const record = JSON.parse(text) as AuditRecord;
  t.same(record.findings, [{ rule: 'secret.github-token', action: 'deny', mode: 'enforce', excerpt: 'ghp_…abcd' }]);
  t.same(record.rules, ['a', 'b']);
  t.equal(record.reason!.length, 4096);
  t.ok((await verifyChain([file], { key: null })).ok);
});

t.test('an event without a usable type is refused; a closed log refuses records', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const log = openAudit(auditConfig(file));
  await t.rejects(log.record({ type: 'Not A Type' } as unknown as AuditEventInput), { code: 'audit.invalid-event' });
  await t.rejects(log.record(null as unknown as AuditEventInput), AuditError);
  await log.close();
  await t.rejects(log.record(event(1)), { code: 'audit.closed' });
  await nullAudit.record(event(1));
});

t.test('records recorded at once from one process keep call order and share appends', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const log = openAudit(auditConfig(file));
  await Promise.all(Array.from({ length: 200 }, (_, i) => log.record(event(i))));
  await log.close();
  const lines = fileLines(file);
  t.same(lines.map((l) => JSON.parse(l).session), Array.from({ length: 200 }, (_, i) => `s${i}`));
  t.ok((await verifyChain([file], { key: null })).ok);
});

t.test('tampering fails verification at the line tampered with', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const original = await writeLog(file, 12);
  const positions = [1, 2, 6, 11, 12];

  for (const at of positions) {
    const lines = [...original];
    lines[at - 1] = lines[at - 1]!.replace(/"session":"s\d+"/, '"session":"forged"');
    rewrite(file, lines);
    const v = await verifyChain([file], { key: null });
    t.match(v.broken, { file, line: at, seq: at, reason: 'hash-mismatch' }, `edit at line ${at}`);
  }

  for (const at of positions) {
    const lines = [...original];
    const rec = JSON.parse(lines[at - 1]!) as AuditRecord;
    lines[at - 1] = JSON.stringify({ ...rec, decision: 'allow' });
    rewrite(file, lines);
    t.match((await verifyChain([file], { key: null })).broken, { line: at, reason: 'not-canonical' }, `field added at line ${at}`);
  }

  for (const at of positions.slice(0, -1)) {
    rewrite(file, original.filter((_, i) => i !== at - 1));
    t.match((await verifyChain([file], { key: null })).broken, { line: at, seq: at + 1, reason: 'seq-gap' }, `line ${at} deleted`);
  }

  for (const at of [1, 5, 11]) {
    const lines = [...original];
    [lines[at - 1], lines[at]] = [lines[at]!, lines[at - 1]!];
    rewrite(file, lines);
    t.match((await verifyChain([file], { key: null })).broken, { line: at, seq: at + 1, reason: 'reordered' }, `lines ${at} and ${at + 1} swapped`);
  }

  rewrite(file, [...original.slice(0, 4), original[2]!, ...original.slice(4)]);
  t.match((await verifyChain([file], { key: null })).broken, { line: 5, seq: 3, reason: 'reordered' }, 'a duplicated line');

  rewrite(file, [...original.slice(0, 3), 'not json', ...original.slice(3)]);
  t.match((await verifyChain([file], { key: null })).broken, { line: 4, reason: 'unparsable' });

  rewrite(file, [...original.slice(0, 3), '', ...original.slice(3)]);
  t.match((await verifyChain([file], { key: null })).broken, { line: 4, reason: 'unparsable' }, 'an empty line');

  rewrite(file, original.map((l, i) => (i === 6 ? l.replace('{"v":1,', '{"v":1, ') : l)));
  t.match((await verifyChain([file], { key: null })).broken, { line: 7, reason: 'not-canonical' }, 'whitespace added');

  // A record whose prev was rewritten to skip a removed one, re-hashed: found by prev (no key).
  const lines = [...original];
  const r7 = JSON.parse(lines[6]!) as AuditRecord;
  const forged = { ...r7, prev: (JSON.parse(lines[4]!) as AuditRecord).hash };
  lines[6] = serializeRecord({ ...forged, hash: hashRecord(forged, null) });
  rewrite(file, lines);
  t.match((await verifyChain([file], { key: null })).broken, { line: 7, reason: 'prev-mismatch' });

  rewrite(file, original.slice(0, -1));
  const cut = await verifyChain([file], { key: null });
  t.ok(cut.ok, 'removing the last line is not visible from inside the log…');
  const lastHash = (JSON.parse(original.at(-1)!) as AuditRecord).hash;
  t.match((await verifyChain([file], { key: null, anchors: [lastHash] })).broken, { reason: 'anchor-missing' }, '…but is against an anchor kept elsewhere');
  rewrite(file, original);
  t.ok((await verifyChain([file], { key: null, anchors: [lastHash] })).ok);
});

t.test('HMAC: a chain re-hashed without the key does not verify', async (t) => {
  const dir = tempDir(t);
  const keyFile = join(dir, 'audit.key');
  writeFileSync(keyFile, 'k'.repeat(32) + '\n');
  const file = join(dir, 'audit.log');
  const original = await writeLog(file, 10, {}, auditConfig(file, { hmacKeyFile: keyFile }));
  const key = Buffer.from('k'.repeat(32));
  t.ok((await verifyChain([file], { key })).ok, 'verifies with the key');
  t.match((await verifyChain([file], { key: null })).broken, { line: 1, reason: 'hash-mismatch', message: /HMAC/ }, 'not without it');
  t.notOk((await verifyChain([file], { key: Buffer.from('z'.repeat(32)) })).ok, 'nor with another key');

  /** Changes record 4 and recomputes every hash after it, as someone without the key would. */
  const forge = (key: Buffer | null): string[] => {
    const records = original.map((l) => JSON.parse(l) as AuditRecord);
    records[3] = { ...records[3]!, result: 'refused' };
    let prev = records[2]!.hash;
    return records.map((r, i) => {
      if (i < 3) return original[i]!;
      const body = { ...r, prev };
      const rec = { ...body, hash: hashRecord(body, key) };
      prev = rec.hash;
      return serializeRecord(rec);
    });
  };
  for (const guess of [null, Buffer.from('wrong-key-wrong-key')]) {
    rewrite(file, forge(guess));
    t.match((await verifyChain([file], { key })).broken, { line: 4, reason: 'hash-mismatch' }, `re-hashed with ${guess === null ? 'SHA-256' : 'a guessed key'}`);
  }

  // The same forgery of a log without a key goes unnoticed: the key is what makes it unforgeable.
  const plain = join(dir, 'plain.log');
  const plainLines = await writeLog(plain, 10);
  const records = plainLines.map((l) => JSON.parse(l) as AuditRecord);
  records[3] = { ...records[3]!, result: 'refused' };
  let prev = records[2]!.hash;
  rewrite(plain, records.map((r, i) => {
    if (i < 3) return plainLines[i]!;
    const body = { ...r, prev };
    const rec = { ...body, hash: hashRecord(body, null) };
    prev = rec.hash;
    return serializeRecord(rec);
  }));
  t.ok((await verifyChain([plain], { key: null })).ok);

  writeFileSync(keyFile, 'short\n');
  await t.rejects(openAudit(auditConfig(file, { hmacKeyFile: keyFile })).record(event(1)), { code: 'audit.key', message: /at least 16/ });
  await t.rejects(openAudit(auditConfig(file, { hmacKeyFile: join(dir, 'missing') })).record(event(1)), { code: 'audit.key' });
});

t.test('rotation by size continues the chain in the next file', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'audit.log');
  await writeLog(file, 40, {}, auditConfig(file, { rotate: { size: 2000, daily: false } }));
  const files = logFiles(file);
  t.ok(files.length >= 5, `${files.length} files`);
  t.equal(files.at(-1), file);
  for (const f of files.slice(0, -1)) t.ok(statSync(f).size <= 2000, 'rotated files stay under the size');
  const all = files.flatMap(fileLines);
  t.equal(all.length, 40);
  const firstOfSecond = JSON.parse(fileLines(files[1]!)[0]!) as AuditRecord;
  t.equal(firstOfSecond.seq, 1, 'seq starts again in each file');
  t.equal(firstOfSecond.prev, (JSON.parse(fileLines(files[0]!).at(-1)!) as AuditRecord).hash, 'prev is the last hash of the rotated file');
  const verified = await verifyChain(files, { key: null });
  t.ok(verified.ok);
  t.equal(verified.records, 40);

  t.match((await verifyChain(files.slice(2), { key: null })).notes, [/starts after genesis/], 'a log whose oldest files are gone still verifies, noted');
  t.match((await verifyChain([files[0]!, files[2]!], { key: null })).broken, { file: files[2], line: 1, reason: 'prev-mismatch' }, 'a missing file in the middle');

  const second = fileLines(files[1]!);
  rewrite(files[1]!, second.slice(0, -1));
  t.match((await verifyChain(files, { key: null })).broken, { file: files[2], line: 1, reason: 'prev-mismatch', message: new RegExp(files[1]!) }, 'the last record of a rotated file removed');
});

t.test('daily rotation starts a new file on a new UTC day', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  let now = new Date('2026-03-01T23:59:59.000Z');
  const log = openAudit(auditConfig(file, { rotate: { size: null, daily: true } }), { now: () => now });
  await log.record(event(1));
  await log.record(event(2));
  now = new Date('2026-03-02T00:00:01.000Z');
  await log.record(event(3));
  await log.close();
  const files = logFiles(file);
  t.equal(files.length, 2);
  t.match(files[0], /audit\.log\.20260302T000001000Z$/);
  t.same(fileLines(files[0]!).map((l) => JSON.parse(l).time.slice(0, 10)), ['2026-03-01', '2026-03-01']);
  t.ok((await verifyChain(files, { key: null })).ok);
});

t.test('a torn last line is a crash artefact: noted by verify, cut by the next append', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'audit.log');
  const lines = await writeLog(file, 5);
  appendFileSync(file, lines[2]!.slice(0, 60));
  const torn = await verifyChain([file], { key: null });
  t.ok(torn.ok);
  t.match(torn.notes, [/unfinished last line/]);
  const log = openAudit(auditConfig(file));
  await log.record(event(6));
  await log.close();
  const after = fileLines(file);
  t.equal(after.length, 6);
  t.equal(JSON.parse(after[5]!).seq, 6);
  t.same((await verifyChain([file], { key: null })).notes, []);

  // A torn line anywhere but the very end of the last file is a break.
  const rotated = `${file}.20260101T000000000Z`;
  writeFileSync(rotated, `${lines[0]}\n${lines[1]!.slice(0, 30)}`);
  t.match((await verifyChain([rotated, file], { key: null })).broken, { file: rotated, line: 2, reason: 'torn-line' });
});

t.test('a log ending in a record that cannot be read is not appended to', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  await writeLog(file, 2);
  appendFileSync(file, 'garbage\n');
  const log = openAudit(auditConfig(file));
  await t.rejects(log.record(event(3)), { code: 'audit.corrupt-tail', message: /audit verify/ });
  await log.close();
});

t.test('an empty current file continues the chain of the newest rotated one', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'audit.log');
  await writeLog(file, 30, {}, auditConfig(file, { rotate: { size: 3000, daily: false } }));
  writeFileSync(file, '');
  await writeLog(file, 1);
  t.ok((await verifyChain(logFiles(file), { key: null })).ok);
  t.notOk(readdirSync(dir).some((n) => n.endsWith('.lock')), 'no lock left behind');
});

t.test('verify reports a file it cannot read', async (t) => {
  const missing = join(tempDir(t), 'nope.log');
  t.match((await verifyChain([missing], { key: null })).broken, { reason: 'unreadable', line: 0 });
  const ok = await verifyChain([], { key: null });
  t.ok(ok.ok);
  t.equal(ok.records, 0);
});
