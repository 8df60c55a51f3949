import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createRef, deleteRef, isAncestor, isBareRepo, listRefs, objectFormat, objectType, readRefs, resolveRef, updateRefs, ZERO_OID } from '../../src/git/index.js';
import { commit, gitDirOf, newRepo } from './fixture.js';

function setup(t: { teardown(fn: () => void): void }): { gitDir: string; a: string; b: string; c: string } {
  const repo = newRepo(t);
  const a = commit(repo, { 'f.txt': 'a\n' });
  const b = commit(repo, { 'f.txt': 'b\n' });
  const c = commit(repo, { 'f.txt': 'c\n' });
  return { gitDir: gitDirOf(repo), a, b, c };
}

t.test('a multi-ref transaction with compare-and-swap applies every update', async (t) => {
  const { gitDir, a, b, c } = setup(t);
  t.same(await updateRefs(gitDir, [
    { ref: 'refs/heads/one', newOid: a, oldOid: ZERO_OID },
    { ref: 'refs/heads/two', newOid: b, oldOid: ZERO_OID },
  ]), { ok: true });
  t.same(await updateRefs(gitDir, [
    { ref: 'refs/heads/one', newOid: c, oldOid: a },
    { ref: 'refs/heads/two', newOid: ZERO_OID, oldOid: b },
    { ref: 'refs/heads/three', newOid: a },
    { ref: 'refs/heads/four', newOid: ZERO_OID, oldOid: ZERO_OID },
  ]), { ok: true });
  t.same(Object.fromEntries(await listRefs(gitDir, ['refs/heads/'])), { 'refs/heads/main': c, 'refs/heads/one': c, 'refs/heads/three': a });
  t.same(await updateRefs(gitDir, []), { ok: true });
});

t.test('one stale expectation changes nothing and says which ref moved', async (t) => {
  const { gitDir, a, b, c } = setup(t);
  await updateRefs(gitDir, [
    { ref: 'refs/heads/one', newOid: a, oldOid: ZERO_OID },
    { ref: 'refs/heads/two', newOid: a, oldOid: ZERO_OID },
  ]);
  const result = await updateRefs(gitDir, [
    { ref: 'refs/heads/one', newOid: b, oldOid: a },
    { ref: 'refs/heads/two', newOid: b, oldOid: c },
    { ref: 'refs/heads/new', newOid: b, oldOid: ZERO_OID },
  ]);
  t.match(result, { ok: false, reason: 'stale', ref: 'refs/heads/two', message: /expected/ });
  t.same(Object.fromEntries(await readRefs(gitDir, ['refs/heads/one', 'refs/heads/two', 'refs/heads/new'])), { 'refs/heads/one': a, 'refs/heads/two': a });

  t.match(await createRef(gitDir, 'refs/heads/one', b), { ok: false, reason: 'stale', ref: 'refs/heads/one' }, 'create over an existing ref');
  t.match(await deleteRef(gitDir, 'refs/heads/missing', a), { ok: false, reason: 'stale', ref: 'refs/heads/missing' }, 'delete of a missing ref');
  t.match(await updateRefs(gitDir, [{ ref: 'refs/heads/one', newOid: ZERO_OID, oldOid: ZERO_OID }]), { ok: false, reason: 'stale' }, 'verify absent');
  t.same(await deleteRef(gitDir, 'refs/heads/two', a), { ok: true });
  t.same(await deleteRef(gitDir, 'refs/heads/one'), { ok: true });
  t.same(await createRef(gitDir, 'refs/pushgate/pending/x', c), { ok: true });
  t.equal(await resolveRef(gitDir, 'refs/pushgate/pending/x'), c);
});

t.test('a held lock is reported as locked; other failures as failed; bad input throws', async (t) => {
  const { gitDir, a, b } = setup(t);
  await createRef(gitDir, 'refs/heads/held', a);
  writeFileSync(join(gitDir, 'refs/heads/held.lock'), '');
  t.match(await updateRefs(gitDir, [{ ref: 'refs/heads/held', newOid: b, oldOid: a }]), { ok: false, reason: 'locked', ref: 'refs/heads/held' });
  t.match(await createRef(gitDir, 'refs/heads/x', '0123456789012345678901234567890123456789'), { ok: false, reason: 'failed', message: /nonexistent object/ });
  t.match(await createRef(gitDir, 'refs/heads/bad..name', a), { ok: false, reason: 'failed' });
  t.match(
    await updateRefs(gitDir, [{ ref: 'refs/heads/q', newOid: a }], { ...process.env, GIT_QUARANTINE_PATH: join(gitDir, 'objects') }),
    { ok: false, reason: 'failed', message: /quarantine/ },
    'git refuses ref updates inside quarantine',
  );
  await t.rejects(updateRefs(gitDir, [{ ref: 'refs/heads/x', newOid: 'HEAD' }]), { code: 'git.invalid-argument' });
  await t.rejects(updateRefs(gitDir, [{ ref: 'refs/heads/x\0y', newOid: a }]), { code: 'git.invalid-argument' });
  await t.rejects(updateRefs(gitDir, [{ ref: '-x', newOid: a }]), { code: 'git.invalid-argument' });
});

t.test('two transactions racing on the same refs: exactly one wins, every time', async (t) => {
  const { gitDir, a, b, c } = setup(t);
  await updateRefs(gitDir, [
    { ref: 'refs/heads/x', newOid: a, oldOid: ZERO_OID },
    { ref: 'refs/heads/y', newOid: a, oldOid: ZERO_OID },
  ]);
  for (let round = 0; round < 15; round += 1) {
    const current = (await resolveRef(gitDir, 'refs/heads/x'))!;
    const [first, second] = [current === b ? c : b, current === a ? c : a];
    const results = await Promise.all(
      [first, second].map((target) =>
        updateRefs(gitDir, [
          { ref: 'refs/heads/x', newOid: target, oldOid: current },
          { ref: 'refs/heads/y', newOid: target, oldOid: current },
        ]),
      ),
    );
    const winners = results.filter((r) => r.ok);
    t.equal(winners.length, 1, `round ${round}: exactly one transaction applied`);
    const loser = results.find((r) => !r.ok);
    t.ok(loser !== undefined && !loser.ok && (loser.reason === 'stale' || loser.reason === 'locked'), `round ${round}: the other saw a moved or held ref`);
    const x = await resolveRef(gitDir, 'refs/heads/x');
    t.equal(await resolveRef(gitDir, 'refs/heads/y'), x, 'both refs moved together');
    t.equal(x, results[0]!.ok ? first : second);
  }
});

t.test('small helpers: resolveRef, isAncestor, objectType, isBareRepo, objectFormat', async (t) => {
  const { gitDir, a, c } = setup(t);
  t.equal(await resolveRef(gitDir, 'refs/heads/main'), c);
  t.equal(await resolveRef(gitDir, 'refs/heads/none'), null);
  await t.rejects(resolveRef(gitDir, '--all'), { code: 'git.invalid-argument' });
  await t.rejects(resolveRef('/nonexistent-dir-for-test', 'HEAD'), { code: 'git.spawn' });
  t.equal(await isAncestor(gitDir, a, c), true);
  t.equal(await isAncestor(gitDir, c, a), false);
  await t.rejects(isAncestor(gitDir, '0123456789012345678901234567890123456789', c), { code: 'git.failed' });
  t.equal(await objectType(gitDir, c), 'commit');
  t.equal(await objectType(gitDir, `${c}^{tree}`), 'tree');
  t.equal(await objectType(gitDir, `${c}:f.txt`), 'blob');
  t.equal(await objectType(gitDir, '0123456789012345678901234567890123456789'), null);
  t.equal(await isBareRepo(gitDir), false);
  const bare = newRepo(t, { bare: true });
  t.equal(await isBareRepo(bare), true);
  t.equal(await isBareRepo(join(bare, 'refs')), false, 'inside a repository is not a repository');
  t.equal(await isBareRepo('/nonexistent-dir-for-test'), false);
  t.equal(await objectFormat(gitDir), 'sha1');
  t.equal(await objectFormat(newRepo(t, { bare: true, objectFormat: 'sha256' })), 'sha256');
});
