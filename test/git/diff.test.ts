import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { changedBlobs, DiffParser, diffEvents, newCommits, type DiffEvent, type FileEvent, type LineEvent } from '../../src/git/index.js';
import { commit, git, gitDirOf, gitTestEnv, newRepo } from './fixture.js';

async function collectRaw(gitDir: string, commits: string[]): Promise<DiffEvent[]> {
  const events: DiffEvent[] = [];
  for await (const batch of diffEvents(gitDir, commits)) for (const event of batch) events.push(event);
  return events;
}

/** The stream's events put back in the order the commits were given (git reads them newest first). */
async function collect(gitDir: string, commits: string[], options: { renames?: boolean } = {}): Promise<DiffEvent[]> {
  const events: DiffEvent[] = [];
  for await (const batch of diffEvents(gitDir, commits, undefined, options)) for (const event of batch) events.push(event);
  const rank = new Map(commits.map((commit, i) => [commit, i]));
  return events.map((event, i) => ({ event, i })).sort((a, b) => rank.get(a.event.commit)! - rank.get(b.event.commit)! || a.i - b.i).map(({ event }) => event);
}

const linesOf = (events: DiffEvent[]): Omit<LineEvent, 'kind'>[] =>
  events.filter((e): e is LineEvent => e.kind === 'line').map(({ commit, path, line, text }) => ({ commit, path, line, text }));
const filesOf = (events: DiffEvent[]): FileEvent[] => events.filter((e): e is FileEvent => e.kind === 'file');

t.test('a line added in one commit and removed in the next is reported once, with its line number', async (t) => {
  const repo = newRepo(t);
  const root = commit(repo, { 'config.txt': 'a\nb\nc\n' });
  const add = commit(repo, { 'config.txt': 'a\nb\nSECRET=hunter2\nc\n' });
  const remove = commit(repo, { 'config.txt': 'a\nb\nc\n' });
  const events = await collect(gitDirOf(repo), [root, add, remove]);
  t.same(linesOf(events), [
    { commit: root, path: 'config.txt', line: 1, text: 'a' },
    { commit: root, path: 'config.txt', line: 2, text: 'b' },
    { commit: root, path: 'config.txt', line: 3, text: 'c' },
    { commit: add, path: 'config.txt', line: 3, text: 'SECRET=hunter2' },
  ]);
  t.same(
    filesOf(events).map((f) => [f.commit, f.path, f.status]),
    [
      [root, 'config.txt', 'added'],
      [add, 'config.txt', 'modified'],
      [remove, 'config.txt', 'modified'],
    ],
  );
});

t.test('line numbers are the new side of each hunk', async (t) => {
  const repo = newRepo(t);
  const ten = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);
  commit(repo, { 'f.txt': ten.join('\n') + '\n' });
  const changed = [...ten];
  changed[2] = 'changed 3';
  changed[7] = 'changed 8';
  changed.splice(5, 0, 'inserted 6a', 'inserted 6b');
  changed.splice(0, 1);
  const head = commit(repo, { 'f.txt': changed.join('\n') + '\n' });
  const found = linesOf(await collect(gitDirOf(repo), [head])).map(({ line, text }) => `${line}:${text}`);
  t.same(found, ['2:changed 3', '5:inserted 6a', '6:inserted 6b', '9:changed 8']);
});

t.test('evil merge: content new in the merge is added there; lines taken from a parent are not', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'f.txt': 'l1\nl2\nl3\n', 'other.txt': 'o1\no2\n' });
  git(repo, ['checkout', '-q', '-b', 'side']);
  const side = commit(repo, { 'f.txt': 'l1\nfrom side\nl2\nl3\n', 'side-only.txt': 'side file\n' });
  git(repo, ['checkout', '-q', 'main']);
  const main = commit(repo, { 'f.txt': 'l1\nl2\nl3\nfrom main\n' });
  git(repo, ['merge', '-q', '--no-commit', 'side']);
  const merge = commit(repo, { 'f.txt': 'l1\nfrom side\nl2\nEVIL\nl3\nfrom main\n', 'other.txt': 'o1\no2\nalso evil\n', 'merge-only.txt': 'new in merge\n' }, 'merge');
  git(repo, ['update-ref', 'refs/heads/main', base]);
  git(repo, ['checkout', '-q', 'main']);
  git(repo, ['branch', '-D', 'side']);

  const commits = await newCommits(gitDir, [merge]);
  const lines = linesOf(await collect(gitDir, commits));
  const inMerge = lines.filter((l) => l.commit === merge);
  t.same(inMerge, [
    { commit: merge, path: 'f.txt', line: 4, text: 'EVIL' },
    { commit: merge, path: 'merge-only.txt', line: 1, text: 'new in merge' },
    { commit: merge, path: 'other.txt', line: 3, text: 'also evil' },
  ]);
  t.same(
    lines.filter((l) => l.text === 'from side' || l.text === 'side file').map((l) => l.commit),
    [side, side],
    'side-branch lines belong to the side commit only',
  );
  t.same(lines.filter((l) => l.text === 'from main').map((l) => l.commit), [main]);
  const mergeFiles = (await collect(gitDir, [merge])).filter((e): e is FileEvent => e.kind === 'file');
  t.ok(mergeFiles.every((f) => f.merge));
  t.same(
    mergeFiles.map((f) => [f.path, f.status]),
    [
      ['f.txt', 'modified'],
      ['merge-only.txt', 'added'],
      ['other.txt', 'modified'],
    ],
  );
});

t.test('octopus merge: a line is new only when new relative to all parents', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  commit(repo, { 'f.txt': 'top\nmiddle\nbottom\n' });
  for (const [branch, file] of [['one', 'one.txt'], ['two', 'two.txt']] as const) {
    git(repo, ['checkout', '-q', '-b', branch, 'main']);
    commit(repo, { [file]: `${branch}\n` });
  }
  git(repo, ['checkout', '-q', 'main']);
  commit(repo, { 'main.txt': 'main\n' });
  git(repo, ['merge', '-q', '--no-commit', 'one', 'two']);
  const merge = commit(repo, { 'f.txt': 'top\nmiddle\nOCTOPUS EVIL\nbottom\n' }, 'octopus');
  t.equal(git(repo, ['rev-list', '--parents', '-1', merge]).split(' ').length, 4, 'three parents');
  const events = await collect(gitDir, [merge]);
  t.same(linesOf(events), [{ commit: merge, path: 'f.txt', line: 3, text: 'OCTOPUS EVIL' }]);
});

t.test('binary files are flagged and have no line events', async (t) => {
  const repo = newRepo(t);
  const head = commit(repo, { 'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0x0a, 0x41]), 'text.txt': 'hello\n' });
  const events = await collect(gitDirOf(repo), [head]);
  const files = filesOf(events);
  t.same(files.map((f) => [f.path, f.binary]), [
    ['image.png', true],
    ['text.txt', false],
  ]);
  t.same(linesOf(events).map((l) => l.path), ['text.txt']);
  t.match(files[0]!.oid, /^[0-9a-f]{40}$/);
});

t.test('file names with spaces, unicode, quotes, tabs and backslashes', async (t) => {
  const repo = newRepo(t);
  const names = ['with space.txt', 'ünïcødé 文件.txt', 'say "hi".txt', 'tab\there.txt', 'back\\slash.txt', 'dir with space/ü.txt'];
  const head = commit(repo, Object.fromEntries(names.map((name, i) => [name, `content ${i}\n`])));
  const events = await collect(gitDirOf(repo), [head]);
  t.same(filesOf(events).map((f) => f.path).sort(), [...names].sort());
  for (const line of linesOf(events)) t.equal(line.text, `content ${names.indexOf(line.path)}`, `line of ${JSON.stringify(line.path)}`);
  const blobs = await changedBlobs(gitDirOf(repo), [head]);
  t.same(blobs.map((b) => b.path).sort(), [...names].sort());
});

t.test('deletions, mode changes, submodules, missing final newline', async (t) => {
  const repo = newRepo(t);
  commit(repo, { 'gone.txt': 'bye\n', 'run.sh': 'echo hi\n', 'nonl.txt': 'a' });
  git(repo, ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`]);
  git(repo, ['commit', '-q', '-m', 'submodule']);
  const sub = git(repo, ['rev-parse', 'HEAD']);
  git(repo, ['update-index', '--chmod=+x', 'run.sh']);
  git(repo, ['update-index', '--cacheinfo', `160000,${'2'.repeat(40)},vendor/lib`]);
  git(repo, ['rm', '-q', 'gone.txt']);
  git(repo, ['commit', '-q', '-m', 'changes']);
  const head = git(repo, ['rev-parse', 'HEAD']);
  writeFileSync(join(repo, 'nonl.txt'), 'b');
  git(repo, ['add', 'nonl.txt']);
  git(repo, ['commit', '-q', '-m', 'no newline']);
  const last = git(repo, ['rev-parse', 'HEAD']);

  const events = await collect(gitDirOf(repo), [sub, head, last]);
  const files = filesOf(events).map(({ commit, path, status, submodule, mode, oid }) => ({ commit, path, status, submodule, mode, oid }));
  t.same(files, [
    { commit: sub, path: 'vendor/lib', status: 'added', submodule: true, mode: '160000', oid: '1'.repeat(40) },
    { commit: head, path: 'gone.txt', status: 'deleted', submodule: false, mode: null, oid: null },
    { commit: head, path: 'run.sh', status: 'modified', submodule: false, mode: '100755', oid: null },
    { commit: head, path: 'vendor/lib', status: 'modified', submodule: true, mode: '160000', oid: '2'.repeat(40) },
    { commit: last, path: 'nonl.txt', status: 'modified', submodule: false, mode: '100644', oid: git(repo, ['rev-parse', 'HEAD:nonl.txt']) },
  ]);
  t.same(linesOf(events), [{ commit: last, path: 'nonl.txt', line: 1, text: 'b' }], 'no Subproject lines, no removed lines');
  const blobs = await changedBlobs(gitDirOf(repo), [sub, head, last]);
  t.same(blobs.map((b) => [b.path, b.size, b.status]), [['nonl.txt', 1, 'modified']], 'submodules, deletions and mode-only changes carry no new blob');
});

t.test('renames: off by default (the moved file is read in full), reported when asked for', async (t) => {
  const repo = newRepo(t);
  const body = Array.from({ length: 20 }, (_, i) => `row ${i}`).join('\n') + '\n';
  commit(repo, { 'old name.txt': body });
  const moved = commit(repo, { 'old name.txt': null, 'new "name".txt': body + 'row 20\n' });
  const plain = await collect(gitDirOf(repo), [moved]);
  t.same(filesOf(plain).map((f) => [f.path, f.status]), [
    ['new "name".txt', 'added'],
    ['old name.txt', 'deleted'],
  ]);
  t.equal(linesOf(plain).length, 21);
  const renamed = await collect(gitDirOf(repo), [moved], { renames: true });
  t.same(filesOf(renamed).map((f) => [f.path, f.status, f.oldPath]), [['new "name".txt', 'renamed', 'old name.txt']]);
  t.same(linesOf(renamed).map((l) => [l.line, l.text]), [[21, 'row 20']]);
});

t.test('the parser gives the same events however the output is split', async (t) => {
  const repo = newRepo(t);
  commit(repo, { 'a.txt': 'one\n', 'b c.txt': 'x\n' });
  git(repo, ['checkout', '-q', '-b', 'side']);
  commit(repo, { 'a.txt': 'one\nside\n' });
  git(repo, ['checkout', '-q', 'main']);
  commit(repo, { 'b c.txt': 'x\ny\n' });
  git(repo, ['merge', '-q', '--no-commit', 'side']);
  commit(repo, { 'a.txt': 'one\nside\névil ünicode\n', 'bin.dat': Buffer.from([0, 1, 2]) });
  const commits = git(repo, ['rev-list', '--reverse', 'HEAD']).split('\n');
  const whole = await collectRaw(gitDirOf(repo), commits);
  const output = spawnSync('git', ['-c', 'core.quotePath=false', 'diff-tree', '--stdin', '-r', '-p', '--cc', '-U0', '--root', '--full-index', '--no-renames'], {
    cwd: repo,
    env: gitTestEnv,
    input: [...commits].reverse().join('\n') + '\n',
  }).stdout;
  const parser = new DiffParser();
  const byteWise: DiffEvent[] = [];
  for (let i = 0; i < output.length; i += 1) byteWise.push(...parser.push(output.subarray(i, i + 1)));
  byteWise.push(...parser.end());
  t.same(byteWise, whole);
  t.ok(linesOf(whole).some((l) => l.text === 'évil ünicode'));
  const marked = new DiffParser();
  const withMarks = [...marked.push(Buffer.from(`${'b'.repeat(40)}\n:pushgate-mark\ndiff --git a/m b/m\n@@ -0,0 +1,2 @@\n+:pushgate-mark\n+ :pushgate-mark\n:pushgate-mark\n:pushgate-marks\n`)), ...marked.end()];
  t.equal(marked.marks, 2, 'a mark is a line of its own outside hunks');
  t.same(linesOf(withMarks).map((l) => l.text), [':pushgate-mark', ' :pushgate-mark'], 'added lines that read like a mark are content');
  const unterminated = new DiffParser();
  const events = [...unterminated.push(Buffer.from(`${'a'.repeat(40)}\ndiff --git a/x b/x\n@@ -0,0 +1 @@\n+last`)), ...unterminated.end()];
  t.same(linesOf(events), [{ commit: 'a'.repeat(40), path: 'x', line: 1, text: 'last' }]);
});

t.test('stopping early stops git; a bad commit id is a GitError', async (t) => {
  const repo = newRepo(t);
  const head = commit(repo, Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}.txt`, `line\n`.repeat(2000)])));
  let batches = 0;
  for await (const batch of diffEvents(gitDirOf(repo), [head])) {
    t.ok(batch.length > 0);
    batches += 1;
    break;
  }
  t.equal(batches, 1);
  await t.rejects(collect(gitDirOf(repo), ['0123456789012345678901234567890123456789']), { code: 'git.failed', message: /did not read commit 0123456789012345678901234567890123456789/ });
  await t.rejects(collect(gitDirOf(repo), [head, git(repo, ['rev-parse', 'HEAD^{tree}'])]), { code: 'git.failed' }, 'a tree is not a commit');
  await t.rejects(collect(gitDirOf(repo), ['HEAD']), { code: 'git.invalid-argument' });
  await t.rejects(collect(gitDirOf(repo), ['not a commit']), { code: 'git.invalid-argument' });
  t.same(await collect(gitDirOf(repo), []), []);
  t.same(await changedBlobs(gitDirOf(repo), []), []);
  await t.rejects(changedBlobs(gitDirOf(repo), ['--x y']), { code: 'git.invalid-argument' });
  await t.rejects(changedBlobs(gitDirOf(repo), ['0123456789012345678901234567890123456789']), { code: 'git.failed' });
});

t.test('changedBlobs: sizes of added and modified blobs; a merge only for what differs from every parent', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'small.txt': 'a\n', 'big.bin': Buffer.alloc(10_000, 1) });
  git(repo, ['checkout', '-q', '-b', 'side']);
  const side = commit(repo, { 'side.txt': 'side\n' });
  git(repo, ['checkout', '-q', 'main']);
  const main = commit(repo, { 'big.bin': Buffer.alloc(20_000, 2), 'small.txt': null });
  git(repo, ['merge', '-q', '--no-commit', 'side']);
  const merge = commit(repo, { 'evil.txt': 'evil\n' }, 'merge');
  const blobs = await changedBlobs(gitDir, [base, side, main, merge]);
  t.same(
    blobs.map(({ commit, path, size, status, mode }) => ({ commit, path, size, status, mode })),
    [
      { commit: base, path: 'big.bin', size: 10_000, status: 'added', mode: '100644' },
      { commit: base, path: 'small.txt', size: 2, status: 'added', mode: '100644' },
      { commit: side, path: 'side.txt', size: 5, status: 'added', mode: '100644' },
      { commit: main, path: 'big.bin', size: 20_000, status: 'modified', mode: '100644' },
      { commit: merge, path: 'evil.txt', size: 5, status: 'added', mode: '100644' },
    ],
  );
});
