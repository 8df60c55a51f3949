/**
 * Every object a push makes reachable is checked, whatever its type and
 * whatever the ref: blobs, trees, commits and annotated tags pushed to tags,
 * notes or any namespace; commit messages and tag annotations; binary files
 * (a single NUL byte) as printable runs. Real pushes into a hooked bare
 * repository.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { testServer, WorkTree, type Pushed } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, requireTool, run } from '../helpers/tools.js';
import { awsKeyId, gh, Rng, slackBot } from '../scan/fixtures.js';

const rng = new Rng(0x0b1ec75);
const server = testServer(t);
const remote = server.createRepo('team/objects');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);

/** The decision, the rule, no plaintext secret anywhere in what the pusher saw, and the ref not created on the server. */
function refused(t: Test, pushed: Pushed, decision: 'deny' | 'park', rule: string, secrets: string[], refs: string[]): void {
  t.equal(pushed.result?.decision, decision, pushed.output.slice(0, 1500));
  t.ok(pushed.result?.findings.some((f) => f.rule.startsWith(rule)), `a ${rule} finding`);
  for (const secret of secrets) t.notOk(pushed.output.includes(secret), 'the secret never appears in plaintext');
  for (const ref of refs) t.equal(serverRef(ref), null, `${ref} was not created`);
}

function serverRef(ref: string): string | null {
  const result = spawnSync('git', ['--git-dir', remote, 'rev-parse', '--verify', '--quiet', ref], { encoding: 'utf8', ...BLOCKING_LIMIT });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Writes a blob into the work tree's object store (not into any commit). */
function blob(content: string | Buffer): string {
  const file = join(work.path, '.git', 'scratch-blob');
  writeFileSync(file, content);
  return work.git('hash-object', '-w', file).trim();
}

/** A tree (not a commit) holding the given files, made with mktree. */
function tree(files: Record<string, string | Buffer>): string {
  const entries = Object.entries(files).map(([name, content]) => `100644 blob ${blob(content)}\t${name}\n`).join('');
  return run('git', ['mktree'], { cwd: work.path, input: entries }).trim();
}

/** Another agent's clone: what it can fetch from the server. */
function fetchable(ref: string): boolean {
  const other = WorkTree.clone(t, remote);
  return spawnSync('git', ['fetch', '--quiet', 'origin', ref], { cwd: other.path, ...BLOCKING_LIMIT }).status === 0;
}

function resetToRemote(): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('checkout', '--quiet', 'main');
  work.git('reset', '--quiet', '--hard', 'origin/main');
}

t.test('a blob holding a token, pushed straight to a tag ref or a notes ref, is denied', async (t) => {
  const token = gh(rng);
  const oid = blob(`deploy token ${token}\n`);
  refused(t, work.push(['origin', `${oid}:refs/tags/x`]), 'deny', 'secret.github-token', [token], ['refs/tags/x']);
  refused(t, work.push(['origin', `${oid}:refs/notes/x`]), 'deny', 'secret.github-token', [token], ['refs/notes/x']);
  refused(t, work.push(['origin', `${oid}:refs/anything/at/all`]), 'deny', 'secret.github-token', [token], ['refs/anything/at/all']);
  t.notOk(fetchable('refs/tags/x'), 'another agent cannot fetch it back');
});

t.test('a tree pushed to a ref is checked: file contents, file names, secret file names', async (t) => {
  const token = slackBot(rng);
  const contents = tree({ 'config.txt': `slack = "${token}"\n` });
  refused(t, work.push(['origin', `${contents}:refs/trees/a`]), 'deny', 'secret.', [token], ['refs/trees/a']);

  const named = gh(rng);
  const byName = tree({ [`${named}.txt`]: 'nothing to see\n' });
  const pushed = work.push(['origin', `${byName}:refs/trees/b`]);
  refused(t, pushed, 'deny', 'secret.github-token', [named], ['refs/trees/b']);
  t.match(pushed.result?.findings, [{ note: /name/ }], 'the finding says it is in a name');

  const keyFile = tree({ id_rsa: 'not really a key\n' });
  refused(t, work.push(['origin', `${keyFile}:refs/trees/c`]), 'deny', 'secret.', [], ['refs/trees/c']);
});

t.test('a file name holding a token, in an ordinary commit, is denied', async (t) => {
  const token = gh(rng);
  work.commit('innocent', { [`docs/${token}.md`]: 'hello\n' });
  const pushed = work.push(['origin', 'HEAD:refs/heads/named']);
  refused(t, pushed, 'deny', 'secret.github-token', [token], ['refs/heads/named']);
  resetToRemote();
});

t.test('a blob over the size limit pushed to a tag parks; an annotated tag pointing at a blob is checked', async (t) => {
  const big = blob(Buffer.alloc(8 * 1024 * 1024, 'a'));
  refused(t, work.push(['origin', `${big}:refs/tags/big`]), 'park', 'limit.blob-size', [], ['refs/tags/big']);

  const token = gh(rng);
  const secret = blob(`token: ${token}\n`);
  work.git('tag', '-a', '-m', 'a blob, annotated', 'blobtag', secret);
  refused(t, work.push(['origin', 'refs/tags/blobtag']), 'deny', 'secret.github-token', [token], ['refs/tags/blobtag']);
  // A tag of a tag of a tree: the chain is followed.
  const inner = gh(rng);
  work.git('tag', '-a', '-m', 'a tree', 'treetag', tree({ 'a.env': `GITHUB_TOKEN=${inner}\n` }));
  work.git('-c', 'advice.nestedTag=false', 'tag', '-a', '-m', 'outer', 'outertag', 'treetag');
  work.git('tag', '-d', 'treetag');
  refused(t, work.push(['origin', 'refs/tags/outertag']), 'deny', 'secret.', [inner], ['refs/tags/outertag']);
  work.git('tag', '-d', 'blobtag', 'outertag');
});

t.test('commit messages, commit headers and tag annotations are scanned as text', async (t) => {
  const token = gh(rng);
  work.commit(`deploy with token ${token}`, { 'deploy.txt': 'clean\n' });
  const pushed = work.push(['origin', 'main']);
  refused(t, pushed, 'deny', 'secret.github-token', [token], []);
  t.match(pushed.result?.findings, [{ path: '(commit message)', line: 1, commit: work.git('rev-parse', 'HEAD').trim() }]);
  resetToRemote();

  // The token on a later line of the message, in a commit that is not the tip.
  const deep = slackBot(rng);
  work.commit(`fix things\n\nused ${deep} to test`, { 'a.txt': 'a\n' });
  work.commit('later', { 'b.txt': 'b\n' });
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.', [deep], []);
  resetToRemote();

  // An author name is text the push brings too.
  const author = gh(rng);
  work.git('commit', '--quiet', '--allow-empty', '-m', 'clean message', `--author=${author} <a@example.test>`);
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.github-token', [author], []);
  resetToRemote();

  // An annotated tag of an existing, clean commit: only the annotation is new.
  const note = awsKeyId(rng);
  work.git('tag', '-a', '-m', `release\n\naws ${note}`, 'v-annotated', 'HEAD');
  const tagged = work.push(['origin', 'refs/tags/v-annotated']);
  refused(t, tagged, 'deny', 'secret.', [note], ['refs/tags/v-annotated']);
  t.match(tagged.result?.findings, [{ path: '(tag annotation)', line: 3 }]);
  work.git('tag', '-d', 'v-annotated');
});

t.test('a replace ref cannot make the scanner read a clean commit in place of the pushed one', async (t) => {
  const token = gh(rng);
  const dirty = work.commit('dirty', { 'dirty.txt': `token ${token}\n` });
  resetToRemote();
  const clean = work.commit('clean', { 'clean.txt': 'clean\n' });
  resetToRemote();
  t.equal(work.push(['origin', `${clean}:refs/replace/${dirty}`]).code, 0, 'the replace ref itself is clean');
  work.git('reset', '--quiet', '--hard', dirty);
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.github-token', [token], []);
  resetToRemote();
});

t.test('a git note holding a token is denied', async (t) => {
  const token = slackBot(rng);
  work.git('notes', 'add', '-m', `deployed with ${token}`, 'HEAD');
  refused(t, work.push(['origin', 'refs/notes/commits']), 'deny', 'secret.', [token], ['refs/notes/commits']);
  work.git('update-ref', '-d', 'refs/notes/commits');
});

t.test('a ref name holding a token is denied', async (t) => {
  const token = gh(rng);
  const pushed = work.push(['origin', `HEAD:refs/heads/${token}`]);
  // git's own summary names the pusher's ref; what pushgate printed must not.
  const fromHook = pushed.output.split('\n').filter((l) => l.startsWith('remote:')).join('\n');
  refused(t, { ...pushed, output: fromHook }, 'deny', 'secret.github-token', [token], [`refs/heads/${token}`]);
  // The ref checks refuse the name too (ref.name); the content rules name the secret.
  t.ok(pushed.result?.findings.some((f) => f.rule === 'secret.github-token' && f.path === '(ref name)'), 'the content rules find the token in the ref name');
});

t.test('one NUL byte does not hide a file from the scanner', async (t) => {
  const token = gh(rng);
  work.commit('binary with token', { 'data/blob.bin': Buffer.concat([Buffer.from('\0'), Buffer.from(`\nGITHUB_TOKEN=${token}\n`)]) });
  const pushed = work.push(['origin', 'main']);
  refused(t, pushed, 'deny', 'secret.github-token', [token], []);
  t.match(pushed.result?.findings, [{ path: 'data/blob.bin' }]);
  resetToRemote();

  // A token among random bytes, as in an image or an archive.
  const embedded = slackBot(rng);
  const noise = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]), rng.bytes(3000), Buffer.from(`\0${embedded}\0`), rng.bytes(3000)]);
  work.commit('image', { 'assets/logo.png': noise });
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.', [embedded], []);
  resetToRemote();

  // UTF-16 text has a NUL after every ASCII character.
  const wide = gh(rng);
  work.commit('utf-16 file', { 'win/settings.reg': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`"Token"="${wide}"\r\n`, 'utf16le')]) });
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.github-token', [wide], []);
  resetToRemote();

  // A binary file that a later commit changes: the new version is read too.
  const later = gh(rng);
  work.commit('binary v1', { 'data/state.bin': Buffer.from('\0\0clean\0') });
  work.commit('binary v2', { 'data/state.bin': Buffer.from(`\0\0key ${later}\0`) });
  refused(t, work.push(['origin', 'main']), 'deny', 'secret.github-token', [later], []);
  resetToRemote();
});

t.test('a binary file past the size cap is never silently allowed', async (t) => {
  server.setConfig(['policy', 'scan', 'maxBytes'], '4KiB');
  work.commit('large binary', { 'data/large.bin': Buffer.concat([Buffer.from('\0'), rng.bytes(16 * 1024)]) });
  refused(t, work.push(['origin', 'main']), 'park', 'scan.incomplete', [], []);
  server.setConfig(['policy', 'scan', 'maxBytes'], '1GiB');
  resetToRemote();
});

t.test('clean objects of every kind are allowed, signed commits and tags included', async (t) => {
  requireTool('ssh-keygen', 'openssh-client');
  const key = join(work.path, '.git', 'signing-key');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', key]);
  work.git('config', 'gpg.format', 'ssh');
  work.git('config', 'user.signingkey', key);
  work.git('commit', '--quiet', '--allow-empty', '-S', '-m', 'signed commit');
  work.git('tag', '-s', '-m', 'signed tag', 'v-signed');
  t.match(work.git('cat-file', 'commit', 'HEAD'), /BEGIN SSH SIGNATURE/);
  const signed = work.push(['origin', 'main', 'refs/tags/v-signed']);
  t.equal(signed.result?.decision, 'allow', signed.output);
  const clean = blob('just text\n');
  t.equal(work.push(['origin', `${clean}:refs/tags/clean-blob`]).code, 0);
  t.equal(work.push(['origin', `${tree({ 'a.txt': 'a\n' })}:refs/trees/clean`]).code, 0);
  work.commit('binary, clean', { 'assets/icon.bin': Buffer.concat([Buffer.from([0, 1, 2, 3]), rng.bytes(2048)]) });
  work.git('tag', '-a', '-m', 'release notes\n\nnothing secret here', 'v-clean');
  const pushed = work.push(['origin', 'main', 'refs/tags/v-clean']);
  t.equal(pushed.result?.decision, 'allow', pushed.output);
  t.ok(fetchable('refs/tags/v-clean'), 'and another agent fetches them');
});
