import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { QueueConfig } from '../../src/config/index.js';
import {
  checkApprover, checkReviewer, effectiveState, fetchHints, findRepositories, ID_ALPHABET, isQueueError, locateEntry, newQueueId,
  normalizeQueueId, pendingRef, postReceiveEnv, QueueError, queueRef, requirementsFor, samePerson, waitCommand, type QueueRecord,
} from '../../src/queue/index.js';
import { jsonText, listText, showText, statusText, summarize } from '../../src/queue/describe.js';
import { withoutServerPaths } from '../../src/queue/paths.js';
import { idOfPendingRef } from '../../src/queue/names.js';
import { parseRecord } from '../../src/queue/record.js';
import { mayHoldRef } from '../../src/queue/repos.js';
import { tempDir } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

const record: QueueRecord = {
  version: 1, id: 'abcd2345', repository: 'team/app', state: 'pending', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-08T00:00:00.000Z',
  updates: [
    { ref: 'refs/heads/main', old: 'a'.repeat(40), new: 'b'.repeat(40), pending: 'refs/pushgate/pending/abcd2345/heads/main' },
    { ref: 'refs/heads/gone', old: 'c'.repeat(40), new: '0'.repeat(40), pending: null },
  ],
  pusher: { principal: 'agent:bot', roles: ['agent'], keyId: 'k', certSerial: '7', sponsor: 'carol', sessionId: 's' },
  pushOptions: ['review=false positive'], reason: 'false positive', reviewRequested: true,
  findings: [{ ruleId: 'secret.aws-access-key', title: 'AWS key', action: 'park', mode: 'enforce', fix: 'f', ref: 'refs/heads/main', commit: 'b'.repeat(40), path: 'a.txt', line: 3, excerpt: 'AKIA…XYZ', fingerprint: 'fp', note: 'the pusher asked for review' },
    { ruleId: 'limit.blob-size', title: 'big', action: 'deny', mode: 'audit', fix: 'f', path: 'big.bin' }],
  stats: { commits: 101, files: 2, insertions: 1, deletions: 1 },
  commits: [{ oid: 'b'.repeat(40), author: 'A <a@x>', subject: 'add' }],
  approvals: [],
  events: [{ type: 'park', at: '2026-01-01T00:00:00.000Z', by: { principal: 'agent:bot', roles: ['agent'] }, comment: 'false positive' }],
};

const queueConfig = (partial: Partial<QueueConfig> = {}): QueueConfig => ({
  reviewerRoles: ['reviewer'], approvals: 1, expiry: 1000, rules: [], waits: { perIdentity: 16, total: 1024 }, notify: { events: [], webhook: null, command: null }, ...partial,
});

t.test('ids: 8 characters without look-alikes; typed ids are forgiven case and spaces', async (t) => {
  t.notMatch(ID_ALPHABET, /[01ilo]/);
  const ids = new Set(Array.from({ length: 2000 }, () => newQueueId()));
  t.equal(ids.size, 2000, 'no repeats in 2000');
  for (const id of [...ids].slice(0, 50)) t.equal(normalizeQueueId(id), id);
  t.equal(normalizeQueueId(' ABCD2345 '), 'abcd2345');
  t.equal(normalizeQueueId('abcd1234'), undefined, 'a 1 is never in an id');
  t.equal(normalizeQueueId('abc'), undefined);
});

t.test('names', async (t) => {
  t.equal(queueRef('abcd2345'), 'refs/pushgate/queue/abcd2345');
  t.equal(pendingRef('abcd2345', 'refs/tags/v1'), 'refs/pushgate/pending/abcd2345/tags/v1');
  t.equal(idOfPendingRef('refs/pushgate/pending/abcd2345/heads/x'), 'abcd2345');
  t.equal(idOfPendingRef('refs/heads/x'), undefined);
  t.equal(idOfPendingRef('refs/pushgate/pending/abcd2345'), undefined);
  t.equal(waitCommand('abcd2345', {}), 'pushgate queue wait abcd2345');
  t.equal(waitCommand('abcd2345', { PUSHGATE_QUEUE_COMMAND: 'ssh -p 2222 git@host queue' }), 'ssh -p 2222 git@host queue wait abcd2345');
  t.equal(waitCommand('abcd2345', { PUSHGATE_PRINCIPAL: 'agent-7' }), 'pushgate queue wait abcd2345 --remote origin', 'over SSH: from the clone');
  t.equal(waitCommand('abcd2345', {}, '/etc/pushgate/pushgate.yaml'), 'pushgate queue wait abcd2345', 'the default config is not named');
  t.equal(waitCommand('abcd2345', {}, "/srv/it's here/pushgate.yaml"), "pushgate queue wait abcd2345 --config '/srv/it'\\''s here/pushgate.yaml'", 'a config path is quoted for the shell');
});

t.test('records: parsing checks the shape; the effective state knows about expiry', async (t) => {
  t.same(parseRecord(JSON.stringify(record)), record);
  t.throws(() => parseRecord('{"version":2}'), /not a pushgate queue record/);
  t.throws(() => parseRecord(JSON.stringify({ ...record, state: 'limbo' })));
  t.equal(effectiveState(record, new Date('2026-01-02T00:00:00Z')), 'pending');
  t.equal(effectiveState(record, new Date('2026-01-09T00:00:00Z')), 'expired');
  t.equal(effectiveState({ ...record, state: 'applied' }, new Date('2026-01-09T00:00:00Z')), 'applied');
});

t.test('rules of release', async (t) => {
  const rules = queueConfig({
    rules: [
      { repos: ['team/*'], refs: ['refs/heads/main'], approvals: 2, reviewerRoles: null },
      { repos: ['**'], refs: ['refs/heads/gone'], approvals: 1, reviewerRoles: ['release-manager'] },
    ],
  });
  const needs = requirementsFor(record, rules);
  t.same(needs, { approvals: 2, reviewerRoles: [['reviewer'], ['release-manager']] }, 'the strictest count, and a role for every ref');
  t.throws(() => checkReviewer({ principal: 'alice', roles: ['reviewer'] }, needs, 'approve'), { code: 'queue.not-reviewer', message: /release-manager/ });
  t.doesNotThrow(() => checkReviewer({ principal: 'alice', roles: ['reviewer', 'release-manager'] }, needs, 'approve'));
  t.same(requirementsFor({ repository: 'x', updates: [] }, queueConfig({ approvals: 0 })), { approvals: 1, reviewerRoles: [['reviewer']] }, 'never fewer than one approval');

  t.ok(samePerson({ principal: 'a' }, { principal: 'a' }));
  t.ok(samePerson({ principal: 'agent:x', sponsor: 'h' }, { principal: 'h' }));
  t.ok(samePerson({ principal: 'agent:x', sponsor: 'h' }, { principal: 'agent:y', sponsor: 'h' }));
  t.notOk(samePerson({ principal: 'a' }, { principal: 'b', sponsor: 'c' }));
  t.throws(() => checkApprover({ principal: 'carol', roles: [] }, record), { code: 'queue.four-eyes', message: /sponsored by carol/ });
  const approved = { ...record, approvals: [{ by: { principal: 'alice', roles: [] }, at: 'x' }] };
  t.throws(() => checkApprover({ principal: 'alice', roles: [] }, approved), { code: 'queue.already-approved' });
  t.doesNotThrow(() => checkApprover({ principal: 'bob', roles: [] }, approved));
});

t.test('errors say whether the caller was refused or the queue failed', async (t) => {
  t.ok(new QueueError('queue.four-eyes', 'x').refused);
  t.notOk(new QueueError('queue.failed', 'x').refused);
  t.notOk(new QueueError('queue.busy', 'x').refused);
  t.ok(isQueueError(new QueueError('queue.stale', 'x')));
  t.notOk(isQueueError(new Error('x')));
});

t.test('texts for people', async (t) => {
  const now = new Date('2026-01-02T00:00:00Z');
  const needs = requirementsFor(record, queueConfig());
  const shown = showText(record, needs, now);
  t.match(shown, /pushed by   agent:bot \(key id k, serial 7, sponsored by carol, session s\) \[agent\]/);
  t.match(shown, /reason      false positive \(the pusher asked for review\)/);
  t.match(shown, /cccccccccccc -> \(none\)  refs\/heads\/gone/);
  t.match(shown, /101 commits, 2 files changed, 1 insertion\(\+\), 1 deletion\(-\)/);
  t.match(shown, /… and 100 more/);
  t.match(shown, /\[audit, would deny\] limit\.blob-size/);
  t.match(shown, /value AKIA…XYZ \(fingerprint fp\)/);
  t.match(shown, `git fetch "$(git remote get-url origin)/.queue/abcd2345" 'refs/pushgate/pending/abcd2345/*:refs/remotes/pushgate/abcd2345/*'`);
  t.notMatch(shown, /on the server itself/, 'no server path unless asked for an administrator');
  t.match(showText(record, needs, now, { localGitDir: '/srv/git/team/app.git' }), `git fetch '/srv/git/team/app.git/.pushgate/parked/abcd2345.git'`);
  t.notMatch(showText({ ...record, state: 'rejected' }, needs, now), /git fetch/, 'nothing to fetch once decided');
  t.match(showText(record, needs, new Date('2026-02-01T00:00:00Z')), /: expired \(recorded as pending\)/);
  t.match(statusText(record, needs, now), 'abcd2345 team/app: pending; 0/1 approvals; expires 2026-01-08T00:00:00Z');
  t.match(statusText({ ...record, state: 'stale', events: [...record.events, { type: 'stale', at: 'x', detail: 'moved' }] }, needs, now), 'stale: moved');
  t.match(statusText({ ...record, state: 'applied' }, needs, now), 'applied; refs/heads/main -> bbbbbbbbbbbb, refs/heads/gone -> (none)');
  t.equal(listText([]), 'no queue entries\n');
  t.match(listText([summarize(record, needs, now)]), /^ID\s+STATE.*\nabcd2345\s+pending\s+team\/app\s+refs\/heads\/main,refs\/heads\/gone\s+agent:bot\s+0\/1/);
  t.same(fetchHints(record).map((h) => h.ref), ['refs/heads/main'], 'a deletion has nothing to fetch');
});

t.test('post-receive gets the pusher\'s identity and push options, not the caller\'s', async (t) => {
  const env = postReceiveEnv('/srv/git/a.git', { ...record, approvals: [{ by: { principal: 'alice', roles: [] }, at: 'x' }] }, {
    PATH: '/bin', PUSHGATE_PRINCIPAL: 'alice', PUSHGATE_ROLES: 'reviewer', GIT_DIR: '/elsewhere', GIT_QUARANTINE_PATH: '/q', GIT_PUSH_OPTION_5: 'stale',
  });
  t.match(env, {
    PATH: '/bin', GIT_DIR: '/srv/git/a.git', PUSHGATE_PRINCIPAL: 'agent:bot', PUSHGATE_ROLES: 'agent', PUSHGATE_KEY_ID: 'k', PUSHGATE_CERT_SERIAL: '7',
    PUSHGATE_SPONSOR: 'carol', PUSHGATE_SESSION: 's', PUSHGATE_QUEUE_ID: 'abcd2345', PUSHGATE_APPROVED_BY: 'alice',
    GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: 'review=false positive',
  });
  t.notOk('GIT_QUARANTINE_PATH' in env);
  t.notOk('GIT_PUSH_OPTION_5' in env);
});

t.test('repositories under reposRoot, and finding an entry among them', async (t) => {
  const root = tempDir(t);
  const bare = (name: string): string => {
    const dir = join(root, `${name}.git`);
    mkdirSync(join(dir, 'refs', 'pushgate', 'queue'), { recursive: true });
    writeFileSync(join(dir, 'HEAD'), 'ref: refs/heads/main\n');
    return dir;
  };
  const a = bare('team/a');
  const b = bare('team/nested/b');
  bare('.hidden/c');
  mkdirSync(join(root, 'not-a-repo.git'));
  t.same(findRepositories(root).map((r) => r.name), ['team/a', 'team/nested/b']);
  writeFileSync(join(a, 'refs', 'pushgate', 'queue', 'abcd2345'), `${'1'.repeat(40)}\n`);
  writeFileSync(join(b, 'packed-refs'), `# pack-refs with: peeled\n${'1'.repeat(40)} refs/pushgate/queue/abcd2345\n`);
  t.ok(mayHoldRef(b, 'refs/pushgate/queue/abcd2345'), 'packed refs count');
  t.notOk(mayHoldRef(b, 'refs/pushgate/queue/abcd234'), 'a prefix of an id is not the id');
  t.throws(() => locateEntry(root, 'abcd2345'), { code: 'queue.ambiguous', message: /team\/a, team\/nested\/b; name one with --repo/ });
  t.equal(locateEntry(root, 'abcd2345', 'team/nested/b.git').gitDir, b);
  t.throws(() => locateEntry(root, 'zzzzzzzz'), { code: 'queue.not-found' });
  t.throws(() => locateEntry(root, 'abcd2345', 'team/none'), { code: 'queue.not-found', message: 'no queue entry abcd2345 in team/none' });
  t.throws(() => locateEntry(root, 'zzzzzzzz'), { message: 'no queue entry zzzzzzzz' }, 'no message names a server path');
});

t.test('hostile text in a record is shown escaped and masked', async (t) => {
  const secret = gh(new Rng(20));
  const hostile: QueueRecord = {
    ...record,
    reason: `ok\u001b[8m hidden ${secret}`,
    pushOptions: [`reason=\u001b]52;c;ZWNobyBoaQ==\u0007`],
    commits: [{ oid: 'b'.repeat(40), author: 'Eve \u202e<evil>', subject: `fix\u001b[2K\r${secret}` }],
    findings: [{ ...record.findings[0]!, path: 'a\u001b[8m.txt', title: 'AWS\u009b31m key' }],
    updates: [{ ...record.updates[0]!, ref: 'refs/heads/ma\u001bin' }],
    events: [...record.events, { type: 'reject', at: '2026-01-01T00:00:01.000Z', by: { principal: 'alice\u001b[31m', roles: [] }, detail: `no\u0007 ${secret}` }],
  };
  const needs = requirementsFor(hostile, queueConfig());
  const now = new Date('2026-01-02T00:00:00Z');
  for (const text of [showText(hostile, needs, now), statusText({ ...hostile, state: 'rejected' }, needs, now), listText([summarize(hostile, needs, now)])]) {
    t.notMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/, 'no control character reaches the terminal');
    t.notOk(text.includes(secret), 'no secret in plaintext');
  }
  const shown = showText(hostile, needs, now);
  t.match(shown, 'ok\\e[8m hidden', 'ESC shown as a visible escape');
  t.match(shown, '\\e]52;c;', 'an OSC 52 clipboard write is shown, not obeyed');
  t.match(shown, '\\u{202e}', 'a bidi override is shown');
});

t.test('JSON for a terminal and messages without server paths', async (t) => {
  const text = jsonText({ a: 'x\u001b[8my\u009b\u202e\u007f' });
  t.notMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  t.same(JSON.parse(text), { a: 'x\u001b[8my\u009b\u202e\u007f' }, 'the same value');
  t.equal(withoutServerPaths("no queue entry x in /srv/git/team/app.git: fatal: '/var/lib/x' is gone"), "no queue entry x in <server path>: fatal: '<server path>' is gone");
  t.equal(withoutServerPaths('fetch ssh://git@host:2222/team/app.git refs/heads/main'), 'fetch ssh://git@host:2222/team/app.git refs/heads/main', 'URLs and ref names stay');
});

t.test('parseRemoteUrl: the SSH URL forms git takes, and local paths', async (t) => {
  const { parseRemoteUrl } = await import('../../src/cli/queue-remote.js');
  t.same(parseRemoteUrl('ssh://git@example.test:2222/team/app.git'), { kind: 'ssh', user: 'git', host: 'example.test', port: '2222' });
  t.same(parseRemoteUrl('git+ssh://example.test/team/app.git'), { kind: 'ssh', host: 'example.test' });
  t.same(parseRemoteUrl('ssh://git@[::1]:22/x'), { kind: 'ssh', user: 'git', host: '::1', port: '22' });
  t.same(parseRemoteUrl('git@example.test:team/app.git'), { kind: 'ssh', user: 'git', host: 'example.test' });
  t.same(parseRemoteUrl('/srv/repos/team/app.git'), { kind: 'local', path: '/srv/repos/team/app.git' });
  t.same(parseRemoteUrl('./a:b'), { kind: 'local', path: './a:b' }, 'a slash before the colon: a path, as git reads it');
  t.same(parseRemoteUrl('file:///srv/app.git'), { kind: 'local', path: '/srv/app.git' });
  t.equal(parseRemoteUrl('https://example.test/team/app.git'), undefined, 'not SSH');
  t.equal(parseRemoteUrl('ssh://-oProxyCommand=x/app'), undefined, 'a host that ssh would read as an option');
  t.equal(parseRemoteUrl('-oProxyCommand=x:app'), undefined);
});
