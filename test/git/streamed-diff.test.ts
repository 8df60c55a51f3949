import { chmodSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { StreamedBlobSizes } from '../../src/git/blob-sizes.js';
import { newCommitGraph } from '../../src/git/commits.js';
import { CatFileBatch, changedBlobs, diffEvents, type DiffEvent } from '../../src/git/index.js';
import { commit, git, gitDirOf, newRepo } from './fixture.js';

async function collect(gitDir: string, commits: string[], options: Parameters<typeof diffEvents>[3] = {}): Promise<DiffEvent[]> {
  const events: DiffEvent[] = [];
  for await (const batch of diffEvents(gitDir, commits, undefined, options)) for (const event of batch) events.push(event);
  return events;
}

/** A history with every kind of change a blob listing has to get right, merges included. */
function varied(t: Parameters<typeof newRepo>[0]): { repo: string; base: string } {
  const repo = newRepo(t);
  const base = commit(repo, { 'keep.txt': 'k\n', 'run.sh': 'echo\n', 'both.txt': 'a\nb\nc\nd\n', 'gone.txt': 'x\n', 'link-me.txt': 'target\n' });
  commit(repo, { 'ünï cødé "q".txt': 'u\n', 'bin.dat': Buffer.from([0, 1, 2, 3]), 'empty.txt': '', 'gone.txt': null, 'dir/deep.txt': 'deep\n' });
  chmodSync(join(repo, 'run.sh'), 0o755);
  commit(repo, {}, 'mode only');
  commit(repo, { 'run.sh': 'echo changed\n' });
  chmodSync(join(repo, 'run.sh'), 0o644);
  commit(repo, { 'run.sh': 'echo changed again\n' }, 'mode and content');
  rmSync(join(repo, 'link-me.txt'));
  symlinkSync('keep.txt', join(repo, 'link-me.txt'));
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'typechange to a symlink']);
  symlinkSync('dir/deep.txt', join(repo, 'new-link'));
  git(repo, ['update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`]);
  commit(repo, { 'new-link': null });
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '--allow-empty', '-m', 'symlink and submodule']);
  git(repo, ['checkout', '-q', '-b', 'side']);
  commit(repo, { 'both.txt': 'a\nSIDE\nc\nd\n', 'side.txt': 'side\n' });
  git(repo, ['checkout', '-q', 'main']);
  commit(repo, { 'both.txt': 'a\nb\nc\nMAIN\n' });
  // Every hunk of both.txt comes from one parent: the dense combined diff shows nothing for it, the raw listing does.
  git(repo, ['merge', '-q', '--no-commit', 'side']);
  commit(repo, { 'both.txt': 'a\nSIDE\nc\nMAIN\n', 'merge-only.txt': 'm\n' }, 'clean merge');
  git(repo, ['checkout', '-q', '-b', 'side2', 'HEAD~1']);
  commit(repo, { 'keep.txt': 'k2\n' });
  git(repo, ['checkout', '-q', 'main']);
  git(repo, ['merge', '-q', '--no-commit', 'side2']);
  commit(repo, { 'keep.txt': 'k2\nEVIL\n' }, 'evil merge');
  commit(repo, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`many/f${i}.txt`, `line ${i}\n`.repeat(i + 1)])));
  return { repo, base };
}

t.test('blob sizes from the patch stream are the list changedBlobs gives', async (t) => {
  const { repo } = varied(t);
  const gitDir = gitDirOf(repo);
  const root = git(repo, ['rev-list', '--max-parents=0', 'HEAD']);
  const graph = await newCommitGraph(gitDir, [git(repo, ['rev-parse', 'HEAD'])], undefined, { excludeRefs: ['*'] });
  t.equal(graph.commits[0], root);
  t.same([...graph.merges].map((c) => git(repo, ['log', '-1', '--format=%s', c])).sort(), ['clean merge', 'evil merge']);
  const catFile = new CatFileBatch(gitDir);
  const sizes = new StreamedBlobSizes(catFile, gitDir, undefined, graph.merges, graph.commits);
  for (const event of await collect(gitDir, graph.commits)) if (event.kind === 'file') sizes.file(event);
  const streamed = await sizes.blobs(graph.commits);
  await catFile.close();
  const raw = await changedBlobs(gitDir, graph.commits);
  const shape = (b: { commit: string; path: string; oid: string; size: number; mode: string }): string[] => [b.commit, b.path, b.oid, String(b.size), b.mode];
  t.same(streamed.map(shape), raw.map(shape));
  t.ok(raw.some((b) => b.path === 'both.txt'), 'the clean merge\'s both.txt is listed');
  t.ok(raw.some((b) => b.mode === '120000'), 'symlinks are listed');
  t.ok(raw.some((b) => b.path === 'empty.txt' && b.size === 0));
  // A typechange is one raw entry but a deletion and a creation in a patch; only its status word differs.
  const statuses = (list: typeof raw): string[] => list.filter((b) => b.path !== 'link-me.txt').map((b) => b.status);
  t.same(statuses(streamed), statuses(raw));
});

t.test('two git processes give the events of one, in the same order', async (t) => {
  const { repo } = varied(t);
  const gitDir = gitDirOf(repo);
  const commits = (await newCommitGraph(gitDir, [git(repo, ['rev-parse', 'HEAD'])], undefined, { excludeRefs: ['*'] })).commits;
  const one = await collect(gitDir, commits);
  for (const processes of [2, 3, 50]) t.same(await collect(gitDir, commits, { processes }), one, `${processes} processes`);
  // Git given one commit at a time and a mark after every read: the spool file is emptied throughout.
  const tight = { batchBytes: 1, leadBytes: 1 };
  t.same(await collect(gitDir, commits, { spool: tight }), one, 'the spool emptied after every read');
  t.same(await collect(gitDir, commits, { spool: tight, processes: 2 }), one, 'the same with two processes');
  const filter = (buf: Buffer, start: number, end: number): boolean => buf.subarray(start, end).includes('e');
  const progressOne = { addedBytes: 0 };
  const progressTwo = { addedBytes: 0 };
  const filteredOne = await collect(gitDir, commits, { lineFilter: filter, progress: progressOne });
  t.same(await collect(gitDir, commits, { lineFilter: filter, progress: progressTwo, processes: 2 }), filteredOne);
  t.ok(progressOne.addedBytes > 0);
  t.equal(progressTwo.addedBytes, progressOne.addedBytes);
});

t.test('two processes: a bad commit in the later part fails the stream; stopping early stops both', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const commits = Array.from({ length: 6 }, (_, i) => commit(repo, Object.fromEntries(Array.from({ length: 40 }, (_, f) => [`f${f}.txt`, `round ${i}\n`.repeat(3000)]))));
  // The oldest commit is read last, by the second process.
  await t.rejects(collect(gitDir, ['0123456789012345678901234567890123456789', ...commits], { processes: 2 }), { code: 'git.failed', message: /did not read commit 0123456789012345678901234567890123456789/ });
  let batches = 0;
  for await (const batch of diffEvents(gitDir, commits, undefined, { processes: 2 })) {
    t.ok(batch.length > 0);
    batches += 1;
    break;
  }
  t.equal(batches, 1);
});
