import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { auditRecords, pushgateCli, testServer, waitForAuditRecord, WorkTree, type Pushed } from '../helpers/git-server.js';
import { pushgateBin, requireTool, run } from '../helpers/tools.js';
import { ALICE, queue } from '../queue/helpers.js';
import { B64, pemBegin, pemLine, gh, Rng, slackBot } from '../scan/fixtures.js';

const rng = new Rng(0xc0ffee);
const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n', 'src/app.ts': 'export const x = 1;\n' });
t.equal(work.push(['origin', 'main']).code, 0);

/** Asserts the decision, the rule, and that no plaintext secret reached the pusher. */
function expectDecision(t: Test, pushed: Pushed, decision: string, rule: string, secrets: string[] = []): void {
  t.equal(pushed.result?.decision, decision, `decision ${decision}: ${pushed.output.slice(0, 800)}`);
  t.ok(pushed.result?.findings.some((f) => f.rule.startsWith(rule)), `a ${rule} finding`);
  t.equal(pushed.resultLines, 1, 'exactly one pushgate-result line');
  for (const secret of secrets) t.notOk(pushed.output.includes(secret), 'the secret never appears in plaintext');
}

function resetToRemote(): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('reset', '--quiet', '--hard', 'origin/main');
}

t.test('a secret in an added line is denied, masked, with path:line and a fix', async (t) => {
  const token = gh(rng);
  work.commit('add token', { 'src/config.ts': `export const a = 1;\nconst token = "${token}";\n` });
  const pushed = work.push(['origin', 'main']);
  expectDecision(t, pushed, 'deny', 'secret.', [token]);
  const finding = pushed.result!.findings.find((f) => f.rule.startsWith('secret.'))!;
  t.equal(finding.path, 'src/config.ts');
  t.equal(finding.line, 2);
  t.ok(finding.excerpt && finding.excerpt.length < token.length, 'excerpt is masked');
  t.match(pushed.output, /src\/config\.ts:2/);
  t.match(pushed.output, /fix: /);
  const audit = readFileSync(join(server.dir, 'state', 'audit', 'audit.log'), 'utf8');
  const decisions = audit.trim().split('\n').map((l) => JSON.parse(l) as { type: string; decision: string; rules: string[]; identity: { principal: string } }).filter((r) => r.type === 'push.decision');
  t.match(decisions.at(-1), { decision: 'deny', identity: { principal: /^local:/ } }, 'the decision is in the audit log');
  t.ok(decisions.at(-1)!.rules.some((r) => r.startsWith('secret.')));
  t.notOk(audit.includes(token), 'the audit log never holds the secret');
  resetToRemote();
});

t.test('a push whose decision cannot be audited is refused', async (t) => {
  server.setConfig(['audit', 'file'], '/dev/null/audit.log');
  work.commit('clean but unaudited', { 'fine.txt': 'fine\n' });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.result?.findings, [{ rule: 'audit.unavailable' }]);
  server.setConfig(['audit', 'file'], join(server.dir, 'state', 'audit', 'audit.log'));
  t.equal(work.push(['origin', 'main']).code, 0);
});

t.test('a secret added in one commit and removed in the next is still caught', async (t) => {
  const token = slackBot(rng);
  work.commit('oops', { 'notes.md': `slack ${token}\n` });
  work.commit('remove it', { 'notes.md': 'nothing here\n' });
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'secret.', [token]);
  resetToRemote();
});

t.test('the evil merge: content that first appears in a merge commit', async (t) => {
  const token = gh(rng);
  work.git('checkout', '--quiet', '-b', 'side');
  work.commit('side work', { 'side.txt': 'side\n' });
  work.git('checkout', '--quiet', 'main');
  work.commit('main work', { 'main.txt': 'main\n' });
  work.git('merge', '--quiet', '--no-ff', '--no-commit', 'side');
  work.write('merged.txt', `key ${token}\n`);
  work.git('add', 'merged.txt');
  work.git('commit', '--quiet', '-m', 'merge side');
  const merge = work.git('rev-parse', 'HEAD').trim();
  const pushed = work.push(['origin', 'main']);
  expectDecision(t, pushed, 'deny', 'secret.', [token]);
  t.match(pushed.result?.findings, [{ commit: merge }], 'attributed to the merge commit');
  work.git('branch', '-D', 'side');
  resetToRemote();
});

t.test('secret file names are findings', async (t) => {
  work.commit('key file', { 'deploy/id_rsa': 'not really a key\n' });
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'secret.');
  resetToRemote();
});

t.test('a private key is its header and body; a header named in code is none', async (t) => {
  const body = Array.from({ length: 3 }, () => rng.str(64, B64)).join('\n');
  work.commit('pem', { 'certs/server.txt': `${pemBegin('RSA')}\n${body}\n${pemLine('END', 'RSA PRIV' + 'ATE KEY')}\n` });
  const pushed = work.push(['origin', 'main']);
  expectDecision(t, pushed, 'deny', 'secret.private-key');
  t.match(pushed.result?.findings, [{ rule: 'secret.private-key', path: 'certs/server.txt', line: 2 }], 'reported where the body starts');
  resetToRemote();
  work.commit('parser', { 'lib/pem.js': `export const isKey = (text) => text.startsWith('${pemBegin('RSA')}');\nexport const HEADER = "${pemBegin('')}";\n` });
  t.equal(work.push(['origin', 'main']).result?.decision, 'allow', 'code that names the header is allowed');
  resetToRemote();
});

t.test('a Kubernetes Secret: values under data: are checked decoded', async (t) => {
  const secret = Buffer.from(rng.str(24)).toString('base64');
  const placeholder = Buffer.from('changeme').toString('base64');
  work.commit('manifest', { 'deploy/db-secret.yaml': `apiVersion: v1\ndata:\n  user: ${Buffer.from('app').toString('base64')}\n  pw: ${secret}\nkind: Secret\n` });
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'secret.kubernetes-secret');
  resetToRemote();
  work.commit('manifest', { 'deploy/dev-secret.yaml': `apiVersion: v1\ndata:\n  pw: ${placeholder}\nkind: Secret\n` });
  t.equal(work.push(['origin', 'main']).result?.decision, 'allow', 'a placeholder, base64-encoded');
  resetToRemote();
});

t.test('a .env name is reported; the content decides unless it cannot be read', async (t) => {
  work.commit('clean env', { 'config/prod.env': 'BUCKET=assets-prod-eu\nREGION=eu-west-1\nACCOUNT_ID=123456789012\n' });
  const clean = work.push(['origin', 'main']);
  t.equal(clean.result?.decision, 'allow', `a clean prod.env is allowed: ${clean.output.slice(0, 400)}`);
  t.match(clean.result?.findings, [{ rule: 'secret.file-env', mode: 'audit' }], 'and reported for its name');
  const token = gh(rng);
  work.commit('env with a token', { 'config/ci.env': `GITHUB_TOKEN=${token}\n` });
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'secret.github-token', [token]);
  resetToRemote();
  work.write('config/blob.env', Buffer.from([0, 1, 2, 3, 0, 255, 0, 7]));
  work.git('add', 'config/blob.env');
  work.git('commit', '--quiet', '-m', 'binary env');
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'secret.file-env');
  resetToRemote();
});

t.test('sensitive paths park', async (t) => {
  work.commit('ci', { '.github/workflows/ci.yml': 'on: push\n' });
  expectDecision(t, work.push(['origin', 'main']), 'park', 'path.ci-workflow');
  resetToRemote();
});

t.test('binary files pass; oversize files and mass deletion park', async (t) => {
  const binary = Buffer.concat([Buffer.from([0, 1, 2, 0, 255]), Buffer.alloc(200, 7)]);
  work.commit('binary', { 'assets/blob.bin': binary });
  t.equal(work.push(['origin', 'main']).result?.decision, 'allow', 'a small binary file is allowed');

  server.setConfig(['policy', 'limits', 'blobSize'], '1KiB');
  work.commit('big text', { 'big.txt': 'x'.repeat(4096) });
  expectDecision(t, work.push(['origin', 'main']), 'park', 'limit.blob-size');
  resetToRemote();
  work.commit('big binary', { 'big.bin': Buffer.concat([Buffer.alloc(10), Buffer.alloc(4096, 1)]) });
  expectDecision(t, work.push(['origin', 'main']), 'park', 'limit.blob-size');
  resetToRemote();
  server.setConfig(['policy', 'limits', 'blobSize'], '5MiB');

  work.commit('many files', Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`many/f${i}.txt`, `${i}\n`])));
  t.equal(work.push(['origin', 'main']).code, 0);
  server.setConfig(['policy', 'limits', 'deletedFiles'], 3);
  work.git('rm', '-q', '-r', 'many');
  work.git('commit', '--quiet', '-m', 'delete many');
  expectDecision(t, work.push(['origin', 'main']), 'park', 'limit.deleted-files');
  resetToRemote();
  server.setConfig(['policy', 'limits', 'deletedFiles'], 100);
  server.setConfig(['policy', 'limits', 'changedFiles'], 2);
  work.commit('three files', { 'c1.txt': '1', 'c2.txt': '2', 'c3.txt': '3' });
  expectDecision(t, work.push(['origin', 'main']), 'park', 'limit.changed-files');
  resetToRemote();
  server.setConfig(['policy', 'limits', 'changedFiles'], 1000);
});

t.test('audit-only mode reports what it would do and allows', async (t) => {
  server.setConfig(['policy', 'mode'], 'audit');
  const token = gh(rng);
  work.commit('audit me', { 'a.env.ts': `const t = "${token}";\n` });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.code, 0, 'allowed');
  t.equal(pushed.result?.decision, 'allow');
  t.match(pushed.result?.findings, [{ mode: 'audit', action: 'deny' }]);
  t.match(pushed.output, /audit \(would deny\)/);
  t.notOk(pushed.output.includes(token));
  server.setConfig(['policy', 'mode'], 'enforce');
  work.commit('clean up', { 'a.env.ts': 'const t = process.env.TOKEN;\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
});

t.test('a rule override can switch a rule to audit or off', async (t) => {
  server.setConfig(['policy', 'rules'], { 'path.ci-workflow': { mode: 'audit' } });
  work.commit('ci again', { '.github/workflows/build.yml': 'on: pull_request\n' });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.result?.decision, 'allow');
  t.match(pushed.result?.findings, [{ rule: 'path.ci-workflow', mode: 'audit' }]);
  server.setConfig(['policy', 'rules'], {});
});

/** Pushes a change to the allowlist file: it always parks (allowlist.changed); a reviewer approves it onto main. */
function landReviewed(t: Test, message: string, files: Record<string, string>, rule = 'allowlist.changed'): void {
  work.commit(message, files);
  const parked = work.push(['origin', 'main']);
  t.equal(parked.result?.decision, 'park', parked.output);
  t.ok(parked.result?.findings.some((f) => f.rule === rule), `parked by ${rule}`);
  const approved = queue(server, ['approve', parked.result?.queueId as string], ALICE);
  t.equal(approved.status, 0, approved.stderr);
  resetToRemote();
}

t.test('allowlist: honoured from the target branch, ignored when added by the push itself', async (t) => {
  const token = gh(rng);
  work.commit('fixture', { 'test/fixture.ts': `export const fake = "${token}";\n` });
  const first = work.push(['origin', 'main']);
  const fingerprint = first.result?.findings.find((f) => f.rule.startsWith('secret.'))?.fingerprint as string;
  t.match(fingerprint, /^[0-9a-f]{16}$/, 'the refusal names the finding fingerprint');

  work.commit('allowlist it myself', { '.pushgate/allowlist.yaml': `fingerprints:\n  - "${fingerprint}"\n` });
  const same = work.push(['origin', 'main']);
  t.equal(same.result?.decision, 'deny', 'an allowlist added by the push itself does not apply');
  resetToRemote();

  // Even with the sensitive-path rule switched off, the allowlist change waits for a reviewer.
  server.setConfig(['policy', 'rules'], { 'path.pushgate': { action: 'off' }, 'allowlist.*': 'off' });
  landReviewed(t, 'allowlist', { '.pushgate/allowlist.yaml': `fingerprints:\n  - "${fingerprint}"\n` });
  server.setConfig(['policy', 'rules'], {});
  work.commit('fixture again', { 'test/fixture.ts': `export const fake = "${token}";\n` });
  const later = work.push(['origin', 'main']);
  t.equal(later.result?.decision, 'allow', later.output);
});

t.test('allowlist: a malformed file on the target branch is ignored with a note, and so is a directory in its place', async (t) => {
  landReviewed(t, 'broken allowlist', { '.pushgate/allowlist.yaml': 'fingerprints: [unclosed\n' });
  const token = gh(rng);
  work.commit('secret under a broken allowlist', { 'src/broken.ts': `export const k = "${token}";\n` });
  const broken = work.push(['origin', 'main']);
  t.equal(broken.result?.decision, 'deny', broken.output);
  t.match(broken.output, /pushgate: note: \.pushgate\/allowlist\.yaml at [0-9a-f]{12} ignored: not YAML/);
  resetToRemote();
  work.git('rm', '--quiet', '.pushgate/allowlist.yaml');
  landReviewed(t, 'allowlist path is a directory', { '.pushgate/allowlist.yaml/inner.txt': 'x\n' }, 'path.pushgate');
  work.commit('secret under a directory', { 'src/dir.ts': `export const k = "${token}";\n` });
  const directory = work.push(['origin', 'main']);
  t.equal(directory.result?.decision, 'deny', directory.output);
  t.match(directory.output, /pushgate: note: \.pushgate\/allowlist\.yaml at [0-9a-f]{12} ignored/);
  resetToRemote();
  work.git('rm', '--quiet', '-r', '.pushgate/allowlist.yaml');
  server.setConfig(['policy', 'rules'], { 'path.pushgate': { action: 'off' } });
  work.commit('allowlist gone');
  t.equal(work.push(['origin', 'main']).code, 0, 'removing the allowlist needs no review');
  server.setConfig(['policy', 'rules'], {});
});

t.test('push options: review turns a secret deny into a park; the reason is recorded', async (t) => {
  const token = gh(rng);
  work.commit('false positive', { 'docs/example.md': `token: ${token}\n` });
  const pushed = work.push(['-o', 'review=this is a documented test token', 'origin', 'main']);
  t.equal(pushed.result?.decision, 'park');
  t.match(pushed.result?.findings, [{ action: 'park', note: /asked for review/ }]);
  t.equal(pushed.result?.reason, 'this is a documented test token');
  resetToRemote();
});

t.test('inline pushgate:allow parks for ordinary pushers and allows trusted roles', async (t) => {
  const token = gh(rng);
  work.commit('marked', { 'src/marked.ts': `const k = "${token}"; // pushgate:allow\n` });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.result?.decision, 'park');
  server.setConfig(['policy', 'trustedRoles'], ['maintainer']);
  const trusted = work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'dana', PUSHGATE_ROLES: 'maintainer' });
  t.equal(trusted.result?.decision, 'allow', trusted.output);
  server.setConfig(['policy', 'trustedRoles'], []);
});

t.test('post-receive records what git applied (push.applied), in the background; a refused push has none', async (t) => {
  resetToRemote();
  type Applied = { type: string; session?: string; repository?: string; identity?: { principal: string }; refUpdates?: { ref: string; old: string; new: string }[] };
  const appliedTo = (tip: string) => (r: Applied): boolean => r.type === 'push.applied' && (r.refUpdates ?? []).some((u) => u.new === tip);
  const before = work.git('rev-parse', 'HEAD').trim();
  const tip = work.commit('applied', { 'applied.txt': 'applied\n' });
  t.equal(work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'carol', PUSHGATE_SESSION: 's-applied' }).code, 0);
  t.match(await waitForAuditRecord<Applied>(server.dir, appliedTo(tip), 30_000), {
    session: 's-applied', repository: 'team/app', identity: { principal: 'carol' }, refUpdates: [{ ref: 'refs/heads/main', old: before, new: tip }],
  });
  const token = gh(rng);
  const refused = work.commit('refused', { 'refused.txt': `key = "${token}"\n` });
  t.equal(work.push(['origin', 'main']).result?.decision, 'deny');
  resetToRemote();
  const next = work.commit('next', { 'next.txt': 'next\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  await waitForAuditRecord<Applied>(server.dir, appliedTo(next), 30_000);
  t.notOk(auditRecords<Applied>(server.dir).some(appliedTo(refused)), 'git ran no post-receive for the refused push');
});

t.test('fail closed: a config that does not load denies every push', async (t) => {
  const original = readFileSync(server.configPath, 'utf8');
  writeFileSync(server.configPath, `${original}\npolicy: [not, a, mapping\n`);
  work.commit('anything', { 'ok.txt': 'ok\n' });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.result?.findings, [{ rule: 'config.invalid' }]);
  t.match(pushed.output, /config\.syntax/, 'the message names the problem');
  t.equal(pushgateCli(['config', 'check', '--config', server.configPath]).status, 1, 'config check agrees');
  writeFileSync(server.configPath, original);
  t.equal(work.push(['origin', 'main']).code, 0, 'fixed config: the next push is allowed');
});

t.test('fail closed: a scan over its time budget or size cap parks', async (t) => {
  server.setConfig(['policy', 'scan', 'maxBytes'], '100B');
  work.commit('larger', { 'large.txt': 'line of text\n'.repeat(200) });
  expectDecision(t, work.push(['origin', 'main']), 'park', 'scan.incomplete');
  server.setConfig(['policy', 'scan', 'maxBytes'], '1GiB');
  server.setConfig(['policy', 'scan', 'timeBudget'], '1ms');
  server.setConfig(['policy', 'scan', 'onFailure'], 'deny');
  expectDecision(t, work.push(['origin', 'main']), 'deny', 'scan.incomplete');
  server.setConfig(['policy', 'scan', 'timeBudget'], '60s');
  server.setConfig(['policy', 'scan', 'onFailure'], 'park');
  t.equal(work.push(['origin', 'main']).code, 0, 'with the budget restored the same push is allowed');
});

t.test('fail closed: git\'s output cannot be spooled (TMPDIR not writable) parks, naming TMPDIR', async (t) => {
  work.commit('spooled', { 'spooled.txt': 'text\n' });
  // Below a file: no directory can be made there, not even by root.
  const pushed = work.push(['origin', 'main'], { TMPDIR: join(server.configPath, 'tmp') });
  expectDecision(t, pushed, 'park', 'scan.incomplete');
  t.match(pushed.output, /TMPDIR/);
  t.equal(work.push(['origin', 'main']).code, 0, 'with TMPDIR writable again the same push is allowed');
});

t.test('garbage on the hook\'s standard input is denied', async (t) => {
  const result = pushgateCli(['hook', 'pre-receive', '--config', server.configPath], { input: 'this is not a ref update\n', cwd: remote, env: { ...process.env, GIT_DIR: remote } });
  t.equal(result.status, 1);
  t.match(result.stderr, /pushgate-result: \{"decision":"deny"/);
  t.match(result.stderr, /hook\.bad-input/);
});

t.test('more than 16 MiB on the hook\'s standard input is denied', async (t) => {
  const result = pushgateCli(['hook', 'pre-receive', '--config', server.configPath], { input: `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/x\n`.repeat(200_000), cwd: remote, env: { ...process.env, GIT_DIR: remote } });
  t.equal(result.status, 1);
  t.match(result.stderr, /more than 16777216 bytes of ref updates on standard input/);
});

t.test('ref updates on a standard input left non-blocking are read in full', async (t) => {
  requireTool('perl', 'perl-base');
  const main = run('git', ['--git-dir', remote, 'rev-parse', 'refs/heads/main']).trim();
  // perl makes the pipe non-blocking and runs the hook on it, as a shell
  // whose input is such a descriptor would. The second half of the line comes
  // later, so a read of the hook finds nothing for a while.
  const nonBlocking = 'use Fcntl; fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!"; exec @ARGV or die "exec: $!"';
  const child = spawn('perl', ['-e', nonBlocking, process.execPath, pushgateBin, 'hook', 'pre-receive', '--config', server.configPath], { cwd: remote, env: { ...process.env, GIT_DIR: remote } });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  // A hook that gave up early has closed the pipe: the test still reports what it printed.
  child.stdin.on('error', () => undefined);
  const line = `${main} ${'0'.repeat(40)} refs/heads/main\n`;
  child.stdin.write(line.slice(0, 20));
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.stdin.end(line.slice(20));
  t.equal(await closed, 1, stderr);
  t.match(stderr, /"rule":"ref\.delete"/, 'the whole line was read: the deletion of main is refused');
  t.notMatch(stderr, /hook\.bad-input/);
});

t.test('10 concurrent pushes are each decided on their own', async (t) => {
  const trees = Array.from({ length: 10 }, () => WorkTree.clone(t, remote));
  const tokens: string[] = [];
  const pushes = trees.map((tree, i) => {
    const secret = i % 2 === 1 ? gh(rng) : undefined;
    if (secret) tokens.push(secret);
    tree.commit(`work ${i}`, { [`c/${i}.txt`]: secret ? `t=${secret}\n` : `clean ${i}\n` });
    return new Promise<{ i: number; code: number; out: string }>((resolve) => {
      const child = spawn('git', ['push', 'origin', `HEAD:refs/heads/agent-${i}`], { cwd: tree.path });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('close', (code) => resolve({ i, code: code ?? -1, out }));
    });
  });
  const results = await Promise.all(pushes);
  for (const r of results) {
    t.equal(r.code === 0, r.i % 2 === 0, `push ${r.i}: ${r.i % 2 === 0 ? 'allowed' : 'denied'}`);
    for (const token of tokens) t.notOk(r.out.includes(token));
  }
});
