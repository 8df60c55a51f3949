import t from 'tap';
import { defaultBranch, exactRef, forEachTreeEntry, listNewObjectNames, listNewObjects, listPush, newCommitGraph, streamObject, CatFileBatch } from '../../src/git/index.js';
import { commit, git, gitDirOf, newRepo } from './fixture.js';

t.test('listNewObjects: every new object of every type, typed and sized, with its name', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'a.txt': '1\n' });
  const next = commit(repo, { 'dir/b.txt': 'two\n' }, 'second');
  git(repo, ['tag', '-a', '-m', 'annotated', 'v1', next]);
  const blob = git(repo, ['hash-object', '-w', '--stdin'], 'loose blob\n');
  const tag = git(repo, ['rev-parse', 'v1']);
  git(repo, ['tag', '-d', 'v1']);
  git(repo, ['reset', '-q', '--hard', base]);

  const objects = await listNewObjects(gitDir, [tag, blob, '0'.repeat(40)]);
  const byOid = new Map(objects.map((o) => [o.oid, o]));
  t.match(byOid.get(tag), { type: 'tag', name: 'v1' });
  t.match(byOid.get(next), { type: 'commit', name: '' });
  t.match(byOid.get(blob), { type: 'blob', size: 11, name: '' });
  t.match(objects.find((o) => o.name === 'dir/b.txt'), { type: 'blob', size: 4 });
  t.match(objects.find((o) => o.name === 'dir'), { type: 'tree' });
  t.notOk(objects.some((o) => o.name === 'a.txt'), 'objects already reachable are not new');
  t.notOk(byOid.has(base));
  t.same(await listNewObjects(gitDir, [base]), [], 'nothing new');
  t.same(await listNewObjects(gitDir, ['0'.repeat(40)]), []);

  git(repo, ['update-ref', 'refs/pushgate/pending/x', next]);
  t.ok((await listNewObjects(gitDir, [next])).some((o) => o.oid === next), 'a parked object is still new');
  await t.rejects(listNewObjects(gitDir, ['1'.repeat(40)]), { code: 'git.failed' }, 'an unknown object fails, never lists nothing');
  await t.rejects(listNewObjects(gitDir, ['--all']), { code: 'git.invalid-argument' });
});

t.test('forEachTreeEntry and streamObject read what cat-file reads', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  commit(repo, { 'x y.txt': 'a\n', 'sub/z': 'b\n' });
  const catFile = new CatFileBatch(gitDir);
  const tree = (await catFile.read('HEAD^{tree}'))!;
  await catFile.close();
  const names: string[] = [];
  forEachTreeEntry(tree.data, 20, (mode, start, end) => names.push(`${mode} ${tree.data.toString('utf8', start, end)}`));
  t.same(names, ['40000 sub', '100644 x y.txt']);
  t.throws(() => forEachTreeEntry(tree.data.subarray(0, tree.data.length - 3), 20, () => undefined), /malformed tree/);
  const chunks: Buffer[] = [];
  const blob = git(repo, ['rev-parse', 'HEAD:x y.txt']);
  t.equal(await streamObject(gitDir, blob, 'blob', (c) => chunks.push(c)), 2);
  t.equal(Buffer.concat(chunks).toString(), 'a\n');
  await t.rejects(streamObject(gitDir, 'HEAD', 'blob', () => undefined), { code: 'git.invalid-argument' });
});

t.test('defaultBranch: the branch HEAD names, read exactly, or null', async (t) => {
  const repo = newRepo(t, { bare: true });
  const work = newRepo(t);
  const tip = commit(work, { 'a.txt': '1\n' });
  git(work, ['push', '-q', repo, 'HEAD:refs/tags/refs/heads/main', 'HEAD:refs/heads/refs/heads/main', 'HEAD:refs/tags/HEAD']);
  t.same(await defaultBranch(repo, () => true), null, 'HEAD names a missing branch: its look-alikes are not taken');
  git(repo, ['update-ref', 'refs/heads/main', tip]);
  t.same(await defaultBranch(repo, () => true), { ref: 'refs/heads/main', commit: tip });
  t.same(await defaultBranch(repo, () => false), null, 'not accepted');
  git(repo, ['symbolic-ref', 'HEAD', 'refs/tags/HEAD']);
  t.same(await defaultBranch(repo, () => true), null, 'HEAD outside refs/heads/');
  git(repo, ['update-ref', '--no-deref', 'HEAD', tip]);
  t.same(await defaultBranch(repo, () => true), null, 'detached HEAD');
});

t.test('exactRef: loose, packed, missing, symbolic', async (t) => {
  const repo = newRepo(t, { bare: true });
  const work = newRepo(t);
  const tip = commit(work, { 'a.txt': '1\n' });
  git(work, ['push', '-q', repo, 'HEAD:refs/heads/loose', 'HEAD:refs/heads/packed']);
  git(repo, ['pack-refs', '--all']);
  git(repo, ['update-ref', 'refs/heads/loose', tip]);
  t.equal(await exactRef(repo, 'refs/heads/loose'), tip);
  t.equal(await exactRef(repo, 'refs/heads/packed'), tip, 'from packed-refs');
  t.equal(await exactRef(repo, 'refs/heads/missing'), null);
  t.equal(await exactRef(repo, 'refs/heads/pac'), null, 'no prefix match');
  git(repo, ['symbolic-ref', 'refs/heads/sym', 'refs/heads/packed']);
  t.equal(await exactRef(repo, 'refs/heads/sym'), tip, 'a symbolic ref is resolved by git');
  t.equal(await exactRef(repo, 'refs/heads/../HEAD'), null, 'no path tricks');
});

t.test('listPush: the same commit graph as newCommitGraph and the same objects, from one walk', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'a.txt': '1\n' });
  git(repo, ['checkout', '-q', '-b', 'side']);
  commit(repo, { 'b.txt': 'b\n' });
  git(repo, ['checkout', '-q', 'main']);
  commit(repo, { 'c.txt': 'c\n' });
  git(repo, ['merge', '-q', '--no-edit', 'side']);
  const merge = git(repo, ['rev-parse', 'HEAD']);
  // An annotated tag named like an object id: it must not pass for a commit.
  git(repo, ['tag', '-a', '-m', 'hex-named', merge, merge]);
  const tag = git(repo, ['rev-parse', `refs/tags/${merge}`]);
  const blob = git(repo, ['hash-object', '-w', '--stdin'], 'loose\n');
  git(repo, ['update-ref', 'refs/heads/main', base]);
  git(repo, ['branch', '-D', 'side']);
  git(repo, ['tag', '-d', merge]);
  const tips = [tag, blob, '0'.repeat(40)];
  const walk = listPush(gitDir, tips);
  const graph = await walk.graph;
  const expected = await newCommitGraph(gitDir, [merge]);
  t.same(graph.commits, expected.commits, 'commits in the same order');
  t.same([...graph.merges], [...expected.merges]);
  t.same([...graph.boundary], [...expected.boundary]);
  const objects = await walk.objects;
  t.same(objects.map((o) => o.oid).sort(), (await listNewObjectNames(gitDir, tips)).filter((o) => o.name !== null).map((o) => o.oid).sort(), 'the same non-commit objects');
  t.ok(objects.some((o) => o.oid === tag && o.name === merge), 'the hex-named tag is an object');
  t.notOk(graph.commits.includes(tag));
  const empty = listPush(gitDir, [base]);
  t.same(await empty.graph, { commits: [], merges: new Set(), boundary: new Set() });
  t.same(await empty.objects, []);
  const broken = listPush(gitDir, ['1'.repeat(40)]);
  await t.rejects(broken.graph, { code: 'git.failed' });
  await t.rejects(broken.objects, { code: 'git.failed' });
});
