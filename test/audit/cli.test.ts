import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { logFiles, openAudit, type AuditEventInput, type AuditRecord } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config/index.js';
import { pushgateBin } from '../helpers/tools.js';
import { auditConfig, cli, fileLines, initServer } from './fixtures/helpers.js';

const DAY = 86_400_000;
const now = Date.now();

const alice = { principal: 'alice', roles: ['agent'], keyId: 'alice@ci', certSerial: '42', clientAddress: '127.0.0.1' };
const bob = { principal: 'bob', roles: ['agent'] };
const carol = { principal: 'carol', roles: ['reviewer'] };
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** A small story: an old connection, a denied push, a parked push approved by a reviewer. */
const story: [number, AuditEventInput][] = [
  [now - 10 * DAY, { type: 'ssh.connect', session: 's0', identity: { principal: 'dave' } }],
  [now - 10 * DAY, { type: 'push.decision', session: 's0', identity: { principal: 'dave' }, repository: 'team/app', decision: 'deny', findings: [{ rule: 'secret.old', action: 'deny', mode: 'enforce' }] }],
  [now - 3 * DAY, { type: 'ssh.connect', session: 's1', identity: alice }],
  [now - 3 * DAY, { type: 'ssh.command', session: 's1', identity: alice, repository: '/team/app.git', command: "git-receive-pack '/team/app.git'" }],
  [now - 3 * DAY, {
    type: 'push.decision', session: 's1', identity: alice, repository: 'team/app', decision: 'deny', rules: ['secret.aws-access-key'],
    refUpdates: [{ ref: 'refs/heads/main', old: A, new: B }],
    findings: [
      { rule: 'secret.aws-access-key', action: 'deny', mode: 'enforce', path: 'config/prod.env', line: 3, excerpt: 'AKIA…MPLE', fingerprint: 'fp1' },
      { rule: 'secret.aws-access-key', action: 'deny', mode: 'enforce', path: 'config/dev.env', line: 1, excerpt: 'AKIA…WXYZ', fingerprint: 'fp2' },
      { rule: 'path.ci-workflow', action: 'park', mode: 'audit', path: '.github/workflows/ci.yml' },
    ],
  }],
  [now - 3 * DAY, { type: 'ssh.session-end', session: 's1', identity: alice, result: '1', bytesIn: 1200, bytesOut: 300, durationMs: 85 }],
  [now - 2 * DAY, {
    type: 'push.decision', session: 's2', identity: bob, repository: 'other/lib', decision: 'park', queueId: 'q1',
    findings: [{ rule: 'ref.force-push', action: 'park', mode: 'enforce', ref: 'refs/heads/main' }, { rule: 'limit.blob-size', action: 'deny', mode: 'audit' }],
  }],
  [now - 2 * DAY, { type: 'queue.park', session: 's2', identity: bob, repository: 'other/lib', queueId: 'q1', reason: 'needs a force push' }],
  [now - 1 * DAY, { type: 'queue.approve', queueId: 'q1', repository: 'other/lib', identity: bob, reviewer: carol, result: 'ok' }],
  [now - 1 * DAY, { type: 'queue.apply', queueId: 'q1', repository: 'other/lib', identity: bob, reviewer: carol, result: 'ok' }],
  [now - 1 * DAY, { type: 'push.decision', session: 's3', identity: alice, repository: 'team/app', decision: 'allow', findings: [] }],
];

const server = await initServer(t);
{
  let at = 0;
  const log = openAudit(loadConfig(server.configPath).audit, { now: () => new Date(at) });
  for (const [time, event] of story) {
    at = time;
    await log.record(event);
  }
  await log.close();
}

async function show(...args: string[]): Promise<AuditRecord[]> {
  const ran = await cli(['audit', 'show', '--config', server.configPath, '--format', 'json', ...args]);
  if (ran.code !== 0) throw new Error(ran.stderr);
  return ran.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

const seqs = (records: AuditRecord[]): number[] => records.map((r) => r.seq);

t.test('every audit command explains itself with an example', async (t) => {
  for (const command of ['verify', 'show', 'tail', 'report']) {
    const help = await cli(['audit', command, '--help']);
    t.equal(help.code, 0);
    t.match(help.stdout, /Example/, `audit ${command} --help`);
  }
  t.match((await cli(['audit', '--help'])).stdout, /verify[\s\S]*show[\s\S]*tail[\s\S]*report/);
});

t.test('show filters the timeline', async (t) => {
  t.same(seqs(await show()), story.map((_, i) => i + 1), 'everything, oldest first');
  t.same(seqs(await show('--session', 's1')), [3, 4, 5, 6]);
  t.same(seqs(await show('--principal', 'carol')), [9, 10], 'a reviewer');
  t.same(seqs(await show('--principal', 'alice', '--type', 'push.decision')), [5, 11]);
  t.same(seqs(await show('--repo', '/team/app.git')), [2, 4, 5, 11], 'repository names normalised');
  t.same(seqs(await show('--queue', 'q1')), [7, 8, 9, 10]);
  t.same(seqs(await show('--type', 'queue')), [8, 9, 10]);
  t.same(seqs(await show('--type', 'queue.*')), [8, 9, 10]);
  t.same(seqs(await show('--since', '7d', '--type', 'ssh.connect')), [3]);
  t.same(seqs(await show('--since', new Date(now - 2.5 * DAY).toISOString(), '--until', '36h')), [7, 8]);
  t.same(await show('--session', 'nobody'), []);

  const text = await cli(['audit', 'show', '--config', server.configPath, '--session', 's1']);
  t.equal(text.code, 0);
  t.match(text.stdout, /#5  alice  push\.decision  repo=team\/app  decision=deny.*session=s1/, 'the actor first, without the key details that repeat');
  t.notMatch(text.stdout, /alice@ci|serial 42/, 'key id and serial only with --verbose');
  const verbose = await cli(['audit', 'show', '--config', server.configPath, '--session', 's1', '--verbose']);
  t.match(verbose.stdout, /#5  alice \(key alice@ci, serial 42, from 127\.0\.0\.1\)  push\.decision  repo=team\/app/);
  t.match(text.stdout, /refs\/heads\/main  aaaaaaaaaa → bbbbbbbbbb/);
  t.match(text.stdout, /deny  secret\.aws-access-key  config\/prod\.env:3  AKIA…MPLE/);
  t.match(text.stdout, /would park  path\.ci-workflow/);
  t.match(text.stdout, /#6  alice  ssh\.session-end  result=1.*in=1200  out=300  ms=85/);

  // An approval is the reviewer's act: the reviewer is named first, the pusher as what it was done to.
  const queue = await cli(['audit', 'show', '--config', server.configPath, '--queue', 'q1']);
  t.equal(queue.code, 0);
  t.match(queue.stdout, /#9  carol  queue\.approve  repo=other\/lib  queue=q1  pushed-by=bob  result=ok/);
  t.match(queue.stdout, /#10  carol  queue\.apply  repo=other\/lib  queue=q1  pushed-by=bob/);
  t.match(queue.stdout, /#8  bob  queue\.park  repo=other\/lib  queue=q1/);
  t.notMatch(queue.stdout, /by=bob.*reviewer=|reviewer=/, 'no line names the pusher as the one who acted on an approval');
  for (const line of queue.stdout.split('\n').filter((l) => /^\S+  #\d+  /.test(l))) {
    t.match(line, /^\S+  #\d+  (bob|carol)  (push|queue)\./, `the actor, then the action: ${line}`);
  }
  const parked = await cli(['audit', 'show', '--config', server.configPath, '--type', 'queue.park']);
  t.match(parked.stdout, /reason: needs a force push/);

  const bad = await cli(['audit', 'show', '--config', server.configPath, '--since', 'last tuesday']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--since last tuesday: expected a duration such as 7d/);
  t.equal((await cli(['audit', 'show', '--config', server.configPath, '--format', 'xml'])).code, 2);
  t.equal((await cli(['audit', 'show', '--config', join(server.dir, 'missing.yaml')])).code, 2);
});

t.test('report counts what each rule decided and would have decided', async (t) => {
  const ran = await cli(['audit', 'report', '--config', server.configPath, '--since', '7d', '--format', 'json']);
  t.equal(ran.code, 0, ran.stderr);
  const report = JSON.parse(ran.stdout) as { pushes: number; decisions: Record<string, number>; rules: { rule: string }[] };
  t.equal(report.pushes, 3);
  t.same(report.decisions, { allow: 1, park: 1, deny: 1 });
  t.same(report.rules, [
    { rule: 'secret.aws-access-key', deny: 1, park: 0, wouldDeny: 0, wouldPark: 0, findings: 2 },
    { rule: 'limit.blob-size', deny: 0, park: 0, wouldDeny: 1, wouldPark: 0, findings: 1 },
    { rule: 'path.ci-workflow', deny: 0, park: 0, wouldDeny: 0, wouldPark: 1, findings: 1 },
    { rule: 'ref.force-push', deny: 0, park: 1, wouldDeny: 0, wouldPark: 0, findings: 1 },
  ], 'per push per rule; most active first');
  const all = JSON.parse((await cli(['audit', 'report', '--config', server.configPath, '--since', '30d', '--format', 'json'])).stdout) as { pushes: number; rules: { rule: string }[] };
  t.equal(all.pushes, 4);
  t.ok(all.rules.some((r) => r.rule === 'secret.old'));

  const text = await cli(['audit', 'report', '--config', server.configPath]);
  t.equal(text.code, 0);
  t.match(text.stdout, /3 push decisions since .*: 1 allowed, 1 parked, 1 denied/);
  t.match(text.stdout, /rule\s+deny\s+park\s+would deny\s+would park\s+findings/);
  t.match(text.stdout, /secret\.aws-access-key\s+1\s+0\s+0\s+0\s+2/);
  const none = await cli(['audit', 'report', '--config', server.configPath, '--since', '1h']);
  t.match(none.stdout, /0 push decisions.*\nno findings/);
});

t.test('verify on the command line', async (t) => {
  const ok = await cli(['audit', 'verify', '--config', server.configPath]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, `ok: ${story.length} record(s) in 1 file(s) form one chain; head ${server.file} seq ${story.length} hash `);
  const head = /hash ([0-9a-f]{64})/.exec(ok.stdout)![1]!;
  t.equal((await cli(['audit', 'verify', '--config', server.configPath, '--anchor', head])).code, 0);
  const json = JSON.parse((await cli(['audit', 'verify', '--config', server.configPath, '--format', 'json'])).stdout) as { ok: boolean; records: number };
  t.same([json.ok, json.records], [true, story.length]);

  const copy = join(server.dir, 'copy.log');
  // pushgate init keys the chain: a file named on the command line is verified with the key.
  const key = ['--key-file', join(server.dir, 'audit.key')];
  const lines = fileLines(server.file);
  writeFileSync(copy, [...lines.slice(0, 5), ...lines.slice(6)].map((l) => `${l}\n`).join(''));
  t.equal((await cli(['audit', 'verify', copy])).code, 1, 'without the key nothing verifies');
  const broken = await cli(['audit', 'verify', copy, ...key]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, `audit chain broken at ${copy}:6 (seq 7): seq-gap: expected seq 6, found 7`);
  const brokenJson = JSON.parse((await cli(['audit', 'verify', copy, ...key, '--format', 'json'])).stdout) as { broken: { line: number; reason: string } };
  t.match(brokenJson.broken, { line: 6, reason: 'seq-gap' });
  const cut = await cli(['audit', 'verify', copy, ...key, '--anchor', '0'.repeat(64)]);
  t.equal(cut.code, 1);

  const missing = await cli(['audit', 'verify', join(server.dir, 'nope.log')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no such file/);
  t.equal((await cli(['audit', 'verify', copy, '--key-file', join(server.dir, 'nope.key')])).code, 2);
});

t.test('verify with the HMAC key from the config', async (t) => {
  const keyed = await initServer(t);
  const keyFile = join(keyed.dir, 'audit.key');
  writeFileSync(keyFile, `${'0123456789abcdef'.repeat(4)}\n`, { mode: 0o600 });
  keyed.setConfig(['audit', 'hmacKeyFile'], keyFile);
  const log = openAudit(loadConfig(keyed.configPath).audit);
  for (const [, event] of story) await log.record(event);
  await log.close();
  t.equal((await cli(['audit', 'verify', '--config', keyed.configPath])).code, 0);
  t.equal((await cli(['audit', 'verify', '--key-file', keyFile, keyed.file])).code, 0);
  const env = { ...process.env };
  delete env.PUSHGATE_CONFIG;
  const withoutKey = await cli(['audit', 'verify', keyed.file], env);
  t.equal(withoutKey.code, 1);
  t.match(withoutKey.stderr, /:1 \(seq 1\): hash-mismatch: .*HMAC/);
});

t.test('tail prints the last records, and follows new ones across rotation', async (t) => {
  const last = await cli(['audit', 'tail', '-n', '2', '--config', server.configPath, '--format', 'json']);
  t.equal(last.code, 0);
  t.same(last.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditRecord).seq), [story.length - 1, story.length]);
  const text = await cli(['audit', 'tail', '-n', '1', '--config', server.configPath]);
  t.match(text.stdout, /^\S+Z  #11  alice  push\.decision/);
  t.equal((await cli(['audit', 'tail', '-n', 'x', '--config', server.configPath])).code, 2);

  const file = join(server.dir, 'followed', 'audit.log');
  const config = auditConfig(file, { rotate: { size: 1500, daily: false } });
  const early = openAudit(config);
  for (let i = 0; i < 12; i++) await early.record({ type: 'ssh.connect', session: `early-${i}` });
  await early.close();

  const child = spawn(process.execPath, [pushgateBin, 'audit', 'tail', '-f', '-n', '3', '--file', file, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const sessions = (): string[] => out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as AuditRecord).session!);
  const until = async (test: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!test() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    t.ok(test(), what);
  };
  await until(() => sessions().length >= 3, 'the last three records first');
  t.same(sessions(), ['early-9', 'early-10', 'early-11']);

  const live = openAudit(config);
  for (let i = 0; i < 40; i++) {
    await live.record({ type: 'ssh.connect', session: `live-${i}` });
    if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await live.close();
  t.ok(logFiles(file).length > 3, 'the log rotated while followed');
  await until(() => sessions().length >= 43, 'every new record, across rotations');
  t.same(sessions().slice(3), Array.from({ length: 40 }, (_, i) => `live-${i}`), 'in order, none lost or repeated');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'an interrupted tail -f exits 0');
});
