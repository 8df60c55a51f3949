import t from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { run } from '../helpers/tools.js';

const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
const first = work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');

t.test('a fast-forward of main is allowed and reports one result line', async (t) => {
  work.commit('second', { 'README.md': 'hello again\n' });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.code, 0, pushed.output);
  t.equal(pushed.resultLines, 1);
  t.equal(pushed.result?.decision, 'allow');
});

t.test('force push to main is denied and main is unchanged', async (t) => {
  const before = run('git', ['--git-dir', remote, 'rev-parse', 'main']).trim();
  work.git('reset', '--quiet', '--hard', first);
  work.commit('rewritten', { 'other.txt': 'x\n' });
  const pushed = work.push(['--force', 'origin', 'main']);
  t.not(pushed.code, 0);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.result?.findings, [{ rule: 'ref.force-push', action: 'deny' }]);
  t.match(pushed.output, /fix: Fetch, rebase/);
  t.equal(run('git', ['--git-dir', remote, 'rev-parse', 'main']).trim(), before, 'main did not move');
  work.git('fetch', '--quiet', 'origin');
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('a force push is seen when another ref of the same push builds on the old tip', async (t) => {
  // The old tip of main is a parent of the other branch's new commit, but not an ancestor of main's new tip.
  const before = run('git', ['--git-dir', remote, 'rev-parse', 'main']).trim();
  work.git('checkout', '--quiet', '-b', 'builds-on-main', before);
  work.commit('on top of main', { 'side.txt': 'side\n' });
  work.git('checkout', '--quiet', 'main');
  work.git('reset', '--quiet', '--hard', first);
  work.commit('rewritten again', { 'other.txt': 'y\n' });
  const pushed = work.push(['--force', 'origin', 'main', 'builds-on-main']);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.match(pushed.result?.findings, [{ rule: 'ref.force-push', ref: 'refs/heads/main' }]);
  t.equal(run('git', ['--git-dir', remote, 'rev-parse', 'main']).trim(), before, 'main did not move');
  work.git('fetch', '--quiet', 'origin');
  work.git('reset', '--quiet', '--hard', 'origin/main');
  work.git('branch', '--quiet', '-D', 'builds-on-main');
});

t.test('deleting main is denied', async (t) => {
  const pushed = work.push(['origin', ':main']);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.result?.findings, [{ rule: 'ref.delete' }]);
});

t.test('unprotected branches may be force-pushed and deleted', async (t) => {
  work.git('checkout', '--quiet', '-b', 'feature');
  work.commit('feature work', { 'f.txt': '1\n' });
  t.equal(work.push(['origin', 'feature']).code, 0);
  work.git('commit', '--quiet', '--amend', '-m', 'amended');
  t.equal(work.push(['--force', 'origin', 'feature']).code, 0, 'force push of a feature branch');
  t.equal(work.push(['origin', ':feature']).code, 0, 'delete of a feature branch');
  work.git('checkout', '--quiet', 'main');
});

t.test('tags: create allowed, move and delete denied', async (t) => {
  work.git('tag', 'v1.0');
  t.equal(work.push(['origin', 'v1.0']).code, 0, 'create');
  work.commit('later', { 'later.txt': 'l\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  work.git('tag', '-f', 'v1.0');
  const moved = work.push(['--force', 'origin', 'v1.0']);
  t.equal(moved.result?.decision, 'deny');
  t.match(moved.result?.findings, [{ rule: 'ref.tag-move' }]);
  const deleted = work.push(['origin', ':refs/tags/v1.0']);
  t.match(deleted.result?.findings, [{ rule: 'ref.delete' }]);
});

t.test('refs/pushgate/ is closed to every push, whatever the config says', async (t) => {
  const pushed = work.push(['origin', 'HEAD:refs/pushgate/pending/fake']);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.result?.findings, [{ rule: 'ref.reserved-namespace' }]);
  server.setConfig(['policy', 'mode'], 'audit');
  server.setConfig(['policy', 'rules'], { 'ref.*': { action: 'off' } });
  const again = work.push(['origin', 'HEAD:refs/pushgate/pending/fake']);
  t.equal(again.result?.decision, 'deny', 'neither audit mode nor an override opens it');
  server.setConfig(['policy', 'mode'], 'enforce');
  server.setConfig(['policy', 'rules'], {});
  t.equal(run('git', ['--git-dir', remote, 'for-each-ref', 'refs/pushgate']).trim(), '');
});

t.test('a park rule for updates parks a fast-forward; roles narrow a rule', async (t) => {
  server.setConfig(['policy', 'protect'], [
    { refs: ['refs/heads/main'], deny: ['delete', 'force-push'], park: ['update'] },
    { refs: ['refs/heads/ops/**'], roles: ['ops'], deny: ['create'] },
  ]);
  work.commit('needs review', { 'x.txt': 'x\n' });
  const parked = work.push(['origin', 'main']);
  t.equal(parked.result?.decision, 'park');
  t.match(parked.result?.findings, [{ rule: 'ref.update', action: 'park' }]);
  t.equal(work.push(['origin', 'HEAD:refs/heads/ops/new']).code, 0, 'the ops-only rule does not apply to this pusher');
  const asOps = work.push(['origin', 'HEAD:refs/heads/ops/other'], { PUSHGATE_ROLES: 'ops' });
  t.match(asOps.result?.findings, [{ rule: 'ref.create', action: 'deny' }]);
  server.setConfig(['policy', 'protect'], [{ refs: ['refs/heads/main', 'refs/tags/**'], deny: ['delete', 'force-push'] }]);
});
