import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { reviewerUploadPackConfig } from '../../src/queue/index.js';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, run, tempDir } from '../helpers/tools.js';
import { AGENT, queue, workflowCommit } from './helpers.js';

const server = testServer(t);
const remote = server.createRepo('team/seen');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);
const tip = workflowCommit(work);
const id = work.push(['origin', 'main'], AGENT).result?.queueId as string;
const pending = `refs/pushgate/pending/${id}/heads/main`;

/** A reviewer's clone over file:// (a real upload-pack, as over SSH; a plain path would copy the object store). */
function reviewerClone(t: { teardown(fn: () => void): void }): string {
  const path = join(tempDir(t, 'pushgate-reviewer-'), 'clone');
  run('git', ['clone', '--quiet', `file://${remote}`, path]);
  return path;
}

function git(cwd: string, ...args: string[]): { status: number; out: string } {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', ...BLOCKING_LIMIT });
  return { status: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
}

const unhide = `git ${reviewerUploadPackConfig().map((c) => `-c ${c}`).join(' ')} upload-pack`;

t.test('the queue namespace is hidden from ordinary advertisements', async (t) => {
  const clone = reviewerClone(t);
  const listed = git(clone, 'ls-remote', 'origin');
  t.equal(listed.status, 0);
  t.notMatch(listed.out, /refs\/pushgate/);
  const byName = git(clone, 'fetch', 'origin', pending);
  t.not(byName.status, 0, 'a hidden ref cannot be fetched by name');
  t.match(byName.out, /couldn't find remote ref/);
});

t.test('reviewers fetch the parked commit by object id (protocol v2), or by name where the pending refs are shown', async (t) => {
  const clone = reviewerClone(t);
  t.not(git(clone, 'cat-file', '-e', tip).status, 0, 'the clone does not have it yet');
  const byOid = git(clone, 'fetch', 'origin', tip);
  t.equal(byOid.status, 0, byOid.out);
  t.equal(git(clone, 'cat-file', '-t', tip).out.trim(), 'commit');

  const other = reviewerClone(t);
  const shown = git(other, 'ls-remote', `--upload-pack=${unhide}`, 'origin');
  t.match(shown.out, new RegExp(`${tip}\\s+${pending}`), 'pending refs are listed for the reviewer');
  t.notMatch(shown.out, /refs\/pushgate\/queue/, 'the records stay hidden');
  const byName = git(other, 'fetch', `--upload-pack=${unhide}`, 'origin', pending);
  t.equal(byName.status, 0, byName.out);
  t.equal(git(other, 'rev-parse', 'FETCH_HEAD').out.trim(), tip);

  const third = reviewerClone(t);
  const command = queue(server, ['show', id]).stdout.split('\n').find((l) => l.includes('--upload-pack'))!.trim();
  const ran = spawnSync('sh', ['-c', command], { cwd: third, encoding: 'utf8', ...BLOCKING_LIMIT });
  t.equal(ran.status, 0, `the command \`queue show\` prints works: ${ran.stderr}`);
  t.equal(git(third, 'rev-parse', `refs/remotes/pushgate/${id}/heads/main`).out.trim(), tip);
});

t.test('nobody pushes into the namespace', async (t) => {
  const pushed = work.push(['origin', `HEAD:${pending}`], AGENT);
  t.not(pushed.code, 0);
  t.equal(git(work.path, 'ls-remote', `--upload-pack=${unhide}`, 'origin', pending).out.trim().split(/\s+/)[0], tip, 'the pending ref is untouched');
});
