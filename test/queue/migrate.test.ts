import { spawnSync } from 'node:child_process';
import t from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { run } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';
import { ALICE, entryRepo, gitIn, hasObject, queue, recordRepo, refsUnder, refValue } from './helpers.js';

/**
 * An installation from before the queue moved out of the repository: an
 * entry under refs/pushgate/ in the repository itself, its objects in the
 * repository's store (servable by id), its record unmasked. `queue migrate`
 * moves it out, masks it, and with --prune drops the objects.
 */
const server = testServer(t);
const remote = server.createRepo('team/old');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);
const base = refValue(remote, 'refs/heads/main')!;
const token = gh(new Rng(3));
const tip = work.commit('ci', { '.github/workflows/ci.yml': 'on: push\n', 'notes/old.txt': `old ${Date.now()}\n` });
const id = 'abcd2345';
const pending = `refs/pushgate/pending/${id}/heads/main`;
// The old park: objects and pending ref in the repository, the record beside them under refs/pushgate/queue/.
run('git', ['--git-dir', remote, 'fetch', '-q', work.path, `+HEAD:${pending}`]);
const now = new Date();
const record = {
  version: 1, id, repository: 'team/old', state: 'pending', createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + 86400_000).toISOString(),
  updates: [{ ref: 'refs/heads/main', old: base, new: tip, pending }],
  pusher: { principal: 'agent:bot', roles: ['agent'] }, pushOptions: [`reason=${token}`], reason: `deploy ${token}`, reviewRequested: false,
  findings: [], stats: { commits: 1, files: 2, insertions: 2, deletions: 0 }, commits: [{ oid: tip, author: 'A <a@x>', subject: `ci ${token}` }],
  approvals: [], events: [{ type: 'park', at: now.toISOString(), by: { principal: 'agent:bot', roles: ['agent'] }, comment: `deploy ${token}` }],
};
const blob = run('git', ['--git-dir', remote, 'hash-object', '-w', '--stdin'], { input: JSON.stringify(record) }).trim();
const tree = run('git', ['--git-dir', remote, 'mktree'], { input: `100644 blob ${blob}\trecord.json\n` }).trim();
const env = { ...process.env, GIT_AUTHOR_NAME: 'pushgate', GIT_AUTHOR_EMAIL: 'p@x', GIT_COMMITTER_NAME: 'pushgate', GIT_COMMITTER_EMAIL: 'p@x' };
const commit = run('git', ['--git-dir', remote, 'commit-tree', tree, '-m', `park ${id}`], { env }).trim();
run('git', ['--git-dir', remote, 'update-ref', `refs/pushgate/queue/${id}`, commit]);

t.test('an old entry is listed, marked, and not acted on until migrated', async (t) => {
  t.ok(hasObject(remote, tip), 'the old layout keeps the parked objects in the repository');
  const listed = queue(server, ['list', '--format', 'json']);
  t.match(listed.json, [{ id, legacy: true }]);
  t.match(listed.stderr, /team\/old still keeps queue entries inside the repository .*queue migrate/);
  const approved = queue(server, ['approve', id], ALICE);
  t.equal(approved.status, 1);
  t.match(approved.stderr, /queue\.legacy/);
  t.equal(refValue(remote, 'refs/heads/main'), base);
  const overSsh = queue(server, ['migrate'], ALICE);
  t.equal(overSsh.status, 1, 'migrate is for the server\'s shell only');
});

t.test('queue migrate --prune moves it out, masks it, and drops the objects from the repository', async (t) => {
  const migrated = queue(server, ['migrate', '--prune', '--format', 'json']);
  t.equal(migrated.status, 0, migrated.stderr);
  t.match(migrated.json, { repositories: [{ name: 'team/old', moved: [id], problems: [], pruned: true }] });
  t.same(refsUnder(remote, 'refs/pushgate/'), [], 'nothing of the queue left in the repository');
  t.notOk(hasObject(remote, tip), 'the parked commit is pruned from the repository\'s store');
  t.equal(gitIn(entryRepo(remote, id), 'rev-parse', pending), tip, 'it lives in the entry\'s store');
  const history = run('git', ['--git-dir', recordRepo(remote), 'log', '-p', `refs/pushgate/queue/${id}`]);
  t.notOk(history.includes(token), 'the moved record is masked');
  const clone = WorkTree.clone(t, `file://${remote}`);
  t.not(spawnSync('git', ['-c', 'protocol.version=2', 'fetch', 'origin', tip], { cwd: clone.path }).status, 0, 'no longer served by id');
  t.equal(queue(server, ['migrate']).stdout, 'nothing to migrate\n', 'running it again changes nothing');
});

t.test('a migrated entry is reviewed as any other', async (t) => {
  const approved = queue(server, ['approve', id], ALICE);
  t.equal(approved.status, 0, approved.stderr);
  t.equal(refValue(remote, 'refs/heads/main'), tip);
  t.ok(hasObject(remote, tip));
});
