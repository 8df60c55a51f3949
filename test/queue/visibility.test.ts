import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, run, tempDir } from '../helpers/tools.js';
import { AGENT, ALICE, entryRepo, hasObject, queue, refsUnder } from './helpers.js';

/**
 * The repository itself never holds a parked push: whatever git serves from
 * it (any protocol version, by name or by id, archive) cannot hand one out.
 * Through real upload-pack / upload-archive over file://, as over SSH.
 */
const server = testServer(t);
const remote = server.createRepo('team/seen');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);
const secretFile = `token.txt ${Date.now()}\n`;
const tip = work.commit('ci and a file', { '.github/workflows/ci.yml': 'on: push\n', 'notes/parked.txt': secretFile });
const blob = work.git('rev-parse', 'HEAD:notes/parked.txt').trim();
const tree = work.git('rev-parse', 'HEAD^{tree}').trim();
const id = work.push(['origin', 'main'], AGENT).result?.queueId as string;
t.ok(id, 'parked');
const pending = `refs/pushgate/pending/${id}/heads/main`;

function reader(t: { teardown(fn: () => void): void }): string {
  const path = join(tempDir(t, 'pushgate-reader-'), 'clone');
  run('git', ['clone', '--quiet', `file://${remote}`, path]);
  return path;
}

function git(cwd: string, ...args: string[]): { status: number; out: string } {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', ...BLOCKING_LIMIT });
  return { status: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
}

t.test('the parked objects are not in the repository\'s object store at all', async (t) => {
  for (const oid of [tip, tree, blob]) t.notOk(hasObject(remote, oid), `${oid} is only in the entry's store`);
  t.same(refsUnder(remote, 'refs/pushgate/'), [], 'no queue ref in the repository');
  t.ok(hasObject(entryRepo(remote, id), tip));
});

t.test('ls-refs / ls-remote show nothing of the queue, in both protocol versions', async (t) => {
  const clone = reader(t);
  for (const version of ['0', '2']) {
    const listed = git(clone, '-c', `protocol.version=${version}`, 'ls-remote', 'origin');
    t.equal(listed.status, 0, listed.out);
    t.notMatch(listed.out, /pushgate/);
    t.notMatch(listed.out, tip);
  }
});

t.test('fetch by id (protocol v2 and v0) of the parked commit, tree or blob fails', async (t) => {
  const clone = reader(t);
  for (const version of ['2', '0']) {
    for (const oid of [tip, tree, blob]) {
      const fetched = git(clone, '-c', `protocol.version=${version}`, 'fetch', 'origin', oid);
      t.not(fetched.status, 0, `v${version} ${oid}: refused`);
      t.not(git(clone, 'cat-file', '-e', oid).status, 0, 'and not in the clone');
    }
  }
  t.not(git(clone, 'fetch', 'origin', pending).status, 0, 'nor by the pending ref\'s name');
});

t.test('git archive --remote of the parked commit, by name or id, fails', async (t) => {
  const clone = reader(t);
  for (const name of [pending, tip, `${tip}:notes`, `refs/pushgate/queue/${id}`]) {
    const archived = spawnSync('git', ['archive', `--remote=file://${remote}`, name], { cwd: clone, ...BLOCKING_LIMIT });
    t.not(archived.status, 0, `archive ${name} refused`);
    t.notOk(archived.stdout.includes(Buffer.from(secretFile)), 'no content');
  }
});

t.test('on the server, the administrator\'s fetch command from queue show works', async (t) => {
  const clone = reader(t);
  const command = queue(server, ['show', id]).stdout.split('\n').find((l) => l.includes('.pushgate/parked'))!.trim();
  const ran = spawnSync('sh', ['-c', command], { cwd: clone, encoding: 'utf8', ...BLOCKING_LIMIT });
  t.equal(ran.status, 0, `the command \`queue show\` prints works: ${ran.stderr}`);
  t.equal(git(clone, 'rev-parse', `refs/remotes/pushgate/${id}/heads/main`).out.trim(), tip);
});

t.test('after rejection the objects are gone from every store', async (t) => {
  t.equal(queue(server, ['reject', id, '--reason', 'no'], ALICE).status, 0);
  for (const oid of [tip, tree, blob]) t.notOk(hasObject(remote, oid));
  const clone = reader(t);
  t.not(git(clone, '-c', 'protocol.version=2', 'fetch', 'origin', tip).status, 0);
});

t.test('nobody pushes into the namespace', async (t) => {
  const pushed = work.push(['origin', `HEAD:${pending}`], AGENT);
  t.not(pushed.code, 0);
  t.same(refsUnder(remote, 'refs/pushgate/'), []);
});
