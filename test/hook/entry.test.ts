import { createHash } from 'node:crypto';
import { cpSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

const projectRoot = new URL('../../..', import.meta.url).pathname;
const server = testServer(t);
let round = 0;

/** Pushes one new commit with TMPDIR set to `tmp`; the hook keeps its code cache under it. */
function pushWithTmp(t: Test, work: WorkTree, tmp: string): void {
  round += 1;
  work.commit(`round ${round}`, { 'notes.txt': `round ${round}\n` });
  const pushed = work.push(['origin', 'main'], { TMPDIR: tmp });
  t.equal(pushed.result?.decision, 'allow', pushed.output);
}

function codeCacheDir(tmp: string): string {
  return join(tmp, `pushgate-${process.getuid!()}`, 'code');
}

function preReceiveEntries(tmp: string): string[] {
  const dir = codeCacheDir(tmp);
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^pre-receive-[0-9a-f]{16}-[0-9a-f]{32}\.bin$/.test(name)).map((name) => join(dir, name)) : [];
}

t.test('the pre-receive hook compiles its bundle once, then runs it from the code cache', async (t) => {
  const work = WorkTree.clone(t, server.createRepo('cached'));
  const tmp = tempDir(t);
  pushWithTmp(t, work, tmp);
  const entries = preReceiveEntries(tmp);
  t.equal(entries.length, 1, 'one entry after the first push');
  const first = statSync(entries[0]!);
  t.ok(first.size > 10_000, `the entry holds compiled code (${first.size} bytes)`);
  t.equal(first.mode & 0o777, 0o600, 'readable by its owner only');
  t.equal(statSync(codeCacheDir(tmp)).mode & 0o777, 0o700);

  pushWithTmp(t, work, tmp);
  const again = statSync(entries[0]!);
  t.same(preReceiveEntries(tmp), entries, 'the same entry');
  t.equal(again.mtimeMs, first.mtimeMs, 'V8 accepted it: it was not written again');
  t.equal(again.ino, first.ino);
});

t.test("writing an entry removes the same bundle's earlier ones, not another installation's", async (t) => {
  const work = WorkTree.clone(t, server.createRepo('earlier'));
  const tmp = tempDir(t);
  const dir = codeCacheDir(tmp);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pathHash = (path: string): string => createHash('sha256').update(path).digest('hex').slice(0, 16);
  const ours = pathHash(join(projectRoot, 'build', 'src', 'hook', 'bundle', 'pre-receive.cjs'));
  const earlier = join(dir, `pre-receive-${ours}-${'0'.repeat(32)}.bin`);
  const elsewhere = join(dir, `pre-receive-${pathHash('/elsewhere/pre-receive.cjs')}-${'0'.repeat(32)}.bin`);
  for (const path of [earlier, elsewhere]) writeFileSync(path, 'compiled by another build\n', { mode: 0o600 });

  pushWithTmp(t, work, tmp);
  t.notOk(existsSync(earlier), "the earlier build's entry is gone");
  t.ok(existsSync(elsewhere), "the other installation's entry stays");
  t.equal(preReceiveEntries(tmp).length, 2);
});

t.test('a damaged code cache entry is refused and replaced, and the push is checked as ever', async (t) => {
  const work = WorkTree.clone(t, server.createRepo('damaged'));
  const tmp = tempDir(t);
  pushWithTmp(t, work, tmp);
  const [entry] = preReceiveEntries(tmp);
  const good = readFileSync(entry!);

  for (const damaged of [Buffer.from('not compiled code at all\n'), good.subarray(0, good.length >> 1)]) {
    writeFileSync(entry!, damaged);
    pushWithTmp(t, work, tmp);
    const replaced = readFileSync(entry!);
    t.ok(replaced.length > damaged.length, `written again (${damaged.length} → ${replaced.length} bytes)`);
  }

  // A secret is still found when the hook ran from a freshly written entry.
  const token = gh(new Rng(0x5eed));
  work.commit('leak', { 'leak.txt': `token = ${token}\n` });
  const pushed = work.push(['origin', 'main'], { TMPDIR: tmp });
  t.not(pushed.code, 0);
  t.not(pushed.result?.decision, 'allow', pushed.output);
  t.notMatch(pushed.output, token, 'masked');
  work.git('reset', '--quiet', '--hard', 'HEAD~1');
});

t.test('a bundle older than the modules it was built from is not run', async (t) => {
  // A copy of the installed program, so that its files' times can be changed.
  const root = tempDir(t, 'pushgate-tree-');
  cpSync(join(projectRoot, 'bin'), join(root, 'bin'), { recursive: true, preserveTimestamps: true });
  cpSync(join(projectRoot, 'build', 'src'), join(root, 'build', 'src'), { recursive: true, preserveTimestamps: true });
  copyFileSync(join(projectRoot, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'));

  const repo = server.createRepo('copied');
  run(process.execPath, [join(root, 'bin', 'pushgate.js'), 'repo', 'install-hooks', repo, '--config', server.configPath]);
  t.match(readFileSync(join(repo, 'hooks', 'pre-receive'), 'utf8'), join(root, 'bin', 'pushgate.js'), 'the copy runs the hook');
  const work = WorkTree.clone(t, repo);

  const later = (seconds: number): Date => new Date(Date.now() + seconds * 1000);
  utimesSync(join(root, 'build', 'src', 'hook', 'main.js'), later(10), later(10));
  const stale = tempDir(t);
  pushWithTmp(t, work, stale);
  t.same(preReceiveEntries(stale), [], 'the modules ran: nothing compiled from the bundle');

  utimesSync(join(root, 'build', 'src', 'hook', 'bundle', 'pre-receive.cjs'), later(20), later(20));
  const fresh = tempDir(t);
  pushWithTmp(t, work, fresh);
  t.equal(preReceiveEntries(fresh).length, 1, 'the bundle ran once it was the newer');
});
