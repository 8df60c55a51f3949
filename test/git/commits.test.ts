import t from 'tap';
import { createRef, deleteRef, diffEvents, newCommits, resolveRef, ZERO_OID, ZERO_OID_SHA256, zeroOid, isZeroOid } from '../../src/git/index.js';
import { commit, git, gitDirOf, newRepo } from './fixture.js';

t.test('new commits are those reachable from the tips and from no ref, parents first', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'a.txt': '1\n' });
  const b = commit(repo, { 'a.txt': '2\n' });
  const c = commit(repo, { 'a.txt': '3\n' });
  git(repo, ['reset', '-q', '--hard', base]);

  t.same(await newCommits(gitDir, [c]), [b, c]);
  t.same(await newCommits(gitDir, [c, ZERO_OID, c]), [b, c], 'deletions skipped, duplicates once');
  t.same(await newCommits(gitDir, [ZERO_OID]), []);
  t.same(await newCommits(gitDir, [base]), [], 'an existing commit is not new');

  git(repo, ['update-ref', 'refs/pushgate/pending/1', c]);
  t.same(await newCommits(gitDir, [c]), [b, c], 'a parked commit is still new');
  t.same(await newCommits(gitDir, [c], undefined, { excludeRefs: [] }), [], 'unless the queue namespace is counted');
  git(repo, ['update-ref', 'refs/heads/other', b]);
  t.same(await newCommits(gitDir, [c]), [c]);
});

t.test('merges: both sides new, in topological order', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const base = commit(repo, { 'a.txt': '1\n' });
  git(repo, ['checkout', '-q', '-b', 'side']);
  const side = commit(repo, { 'b.txt': 'b\n' });
  git(repo, ['checkout', '-q', 'main']);
  const main = commit(repo, { 'c.txt': 'c\n' });
  git(repo, ['merge', '-q', '--no-edit', 'side']);
  const merge = git(repo, ['rev-parse', 'HEAD']);
  git(repo, ['update-ref', 'refs/heads/main', base]);
  git(repo, ['branch', '-D', 'side']);
  const found = await newCommits(gitDir, [merge]);
  t.equal(found.length, 3);
  t.equal(found[2], merge);
  t.same([...found.slice(0, 2)].sort(), [side, main].sort());
});

t.test('bad tips are rejected before git runs', async (t) => {
  const repo = newRepo(t);
  await t.rejects(newCommits(gitDirOf(repo), ['--all']), { code: 'git.invalid-argument' });
  await t.rejects(newCommits(gitDirOf(repo), ['a b']), { code: 'git.invalid-argument' });
  await t.rejects(newCommits(gitDirOf(repo), ['0123456789012345678901234567890123456789']), { code: 'git.failed' });
});

t.test('SHA-256 repositories: 64-digit ids and zero id', async (t) => {
  const repo = newRepo(t, { objectFormat: 'sha256' });
  const gitDir = gitDirOf(repo);
  t.equal(git(repo, ['rev-parse', '--show-object-format']), 'sha256');
  const base = commit(repo, { 'a.txt': 'a\n' });
  const tip = commit(repo, { 'a.txt': 'a\nb\n' });
  t.equal(tip.length, 64);
  git(repo, ['reset', '-q', '--hard', base]);
  t.same(await newCommits(gitDir, [tip, ZERO_OID_SHA256]), [tip]);
  const lines: string[] = [];
  for await (const batch of diffEvents(gitDir, [tip])) for (const e of batch) if (e.kind === 'line') lines.push(`${e.commit}:${e.line}:${e.text}`);
  t.same(lines, [`${tip}:2:b`]);
  t.same(await createRef(gitDir, 'refs/pushgate/pending/x', tip), { ok: true });
  t.equal(await resolveRef(gitDir, 'refs/pushgate/pending/x'), tip);
  t.same(await deleteRef(gitDir, 'refs/pushgate/pending/x', tip), { ok: true });
  t.equal(zeroOid('sha256'), ZERO_OID_SHA256);
  t.equal(zeroOid(), ZERO_OID);
  t.ok(isZeroOid(ZERO_OID_SHA256));
  t.notOk(isZeroOid('0'.repeat(39)));
});
