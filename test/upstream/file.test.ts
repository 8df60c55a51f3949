import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, awsKeyId, awsSecret } from '../scan/fixtures.js';
import { SshUser, sleep, startGateway } from '../gateway/harness.js';
import { tempDir } from '../helpers/tools.js';
import { upstreamRepos } from '../helpers/upstream-sshd.js';
import { ALICE, queue } from '../queue/helpers.js';

const upstream = upstreamRepos(t);
for (const name of ['team/clone', 'team/push', 'team/deny', 'team/park', 'team/stale', 'team/hook', 'team/down', 'team/race']) upstream.create(name);

const gateway = await startGateway(t, {
  configure(server) {
    server.setConfig(['upstreams'], [{ name: 'local', repositories: 'team/**', url: `file://${upstream.root}/{repo}.git`, fetchInterval: '300ms', timeout: '20s' }]);
  },
});
const user = new SshUser(gateway, 'agent-one').sign({ roles: ['agent'] } as never);
const other = new SshUser(gateway, 'agent-two').sign({ roles: ['agent'] } as never);
const mirror = (name: string): string => join(gateway.server.reposRoot, `${name}.git`);

function refsOf(gitDir: string): Record<string, string> {
  const out = spawnSync('git', ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/tags'], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(out.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
}

function cloneAs(who: SshUser, repo: string, t: Parameters<typeof tempDir>[0]): { dir: string; ran: ReturnType<SshUser['git']> } {
  const dir = join(tempDir(t), 'work');
  const ran = who.git(['clone', '-q', gateway.url(`${repo}.git`), dir]);
  return { dir, ran };
}

function commitIn(who: SshUser, dir: string, file: string, content: string): string {
  spawnSync('sh', ['-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', file], { cwd: dir, input: content });
  who.git(['add', file], { cwd: dir });
  who.git(['commit', '-q', '-m', `add ${file}`], { cwd: dir });
  return who.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim();
}

t.test('a clone through pushgate equals the upstream; a commit made upstream shows after fetchInterval', async (t) => {
  const { dir, ran } = cloneAs(user, 'team/clone', t);
  t.equal(ran.status, 0, ran.stderr);
  t.ok(existsSync(join(mirror('team/clone'), 'hooks', 'pre-receive')), 'the mirror was created with pushgate\'s hooks');
  t.same(refsOf(mirror('team/clone')), upstream.refs('team/clone'), 'the mirror holds the upstream\'s refs');
  t.equal(user.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim(), upstream.refs('team/clone')['refs/heads/main']);
  const direct = upstream.commit('team/clone', 'pushed directly upstream');
  let seen = '';
  for (let i = 0; i < 100 && seen !== direct; i++) {
    await sleep(100);
    user.git(['fetch', '-q', 'origin'], { cwd: dir });
    seen = user.git(['rev-parse', 'origin/main'], { cwd: dir }).stdout.trim();
  }
  t.equal(seen, direct, 'the upstream commit reached a fetch through pushgate');
});

t.test('an allowed push lands upstream with the same ids, then in the mirror', async (t) => {
  const { dir } = cloneAs(user, 'team/push', t);
  const head = commitIn(user, dir, 'hello.txt', 'hello\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main', 'HEAD:refs/heads/feature'], { cwd: dir });
  t.equal(pushed.status, 0, pushed.stderr);
  t.match(pushed.stderr, /"decision":"allow"/);
  t.equal(upstream.refs('team/push')['refs/heads/main'], head, 'upstream main is the pushed commit');
  t.equal(upstream.refs('team/push')['refs/heads/feature'], head, 'both refs of the push landed upstream');
  t.same(refsOf(mirror('team/push')), upstream.refs('team/push'), 'the mirror equals the upstream');
  const forward = await gateway.waitForAudit((l) => l.type === 'upstream.forward' && l.repository === 'team/push');
  t.equal(forward.result, 'accepted');
  t.equal(forward.upstream, 'local');
});

t.test('a denied push changes nothing upstream or in the mirror', async (t) => {
  const { dir } = cloneAs(user, 'team/deny', t);
  const before = upstream.refs('team/deny');
  const rng = new Rng(7);
  commitIn(user, dir, 'creds.env', `AWS_ACCESS_KEY_ID=${awsKeyId(rng)}\nAWS_SECRET_ACCESS_KEY=${awsSecret(rng)}\n`);
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(pushed.status, 0);
  t.match(pushed.stderr, /"decision":"deny"/);
  t.same(upstream.refs('team/deny'), before, 'upstream unchanged');
  t.same(refsOf(mirror('team/deny')), before, 'mirror unchanged');
});

t.test('a parked push changes nothing until approved, then lands upstream', async (t) => {
  const { dir } = cloneAs(user, 'team/park', t);
  const before = upstream.refs('team/park');
  const head = commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.match(pushed.stderr, /"decision":"park"/, pushed.stderr);
  const id = /"queueId":"([^"]+)"/.exec(pushed.stderr)![1]!;
  t.same(upstream.refs('team/park'), before, 'nothing upstream while parked');
  const approved = queue(gateway.server, ['approve', id], ALICE);
  t.equal(approved.status, 0, approved.stderr);
  t.equal(upstream.refs('team/park')['refs/heads/main'], head, 'approved: the push landed upstream');
  t.equal(refsOf(mirror('team/park'))['refs/heads/main'], head, 'and in the mirror');
});

t.test('an upstream ref moved meanwhile makes the approval stale; nothing lands', async (t) => {
  const { dir } = cloneAs(user, 'team/stale', t);
  commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  const id = /"queueId":"([^"]+)"/.exec(pushed.stderr)![1]!;
  const moved = upstream.commit('team/stale', 'moved upstream');
  const approved = queue(gateway.server, ['approve', id], ALICE);
  t.not(approved.status, 0);
  t.match(approved.stderr, /stale/);
  t.equal(upstream.refs('team/stale')['refs/heads/main'], moved, 'upstream keeps its own commit');
  t.equal(refsOf(mirror('team/stale'))['refs/heads/main'], moved, 'the mirror follows the upstream');
});

t.test('an upstream hook\'s refusal reaches the agent with its text; an approval it refuses stays pending', async (t) => {
  const { dir } = cloneAs(user, 'team/hook', t);
  const before = upstream.refs('team/hook');
  upstream.refuseWith('team/hook', 'UPSTREAM-POLICY: main is protected, open a merge request');
  commitIn(user, dir, 'a.txt', 'a\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(pushed.status, 0);
  t.match(pushed.stderr, /upstream\.rejected/);
  t.match(pushed.stderr, /UPSTREAM-POLICY: main is protected, open a merge request/, 'the upstream\'s own words reach the agent');
  t.same(upstream.refs('team/hook'), before);
  t.same(refsOf(mirror('team/hook')), before, 'nothing moved in the mirror');

  commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
  const parked = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  const id = /"queueId":"([^"]+)"/.exec(parked.stderr)![1]!;
  const approved = queue(gateway.server, ['approve', id], ALICE);
  t.equal(approved.status, 1, 'refused, not failed');
  t.match(approved.stderr, /UPSTREAM-POLICY/, 'the reviewer sees the upstream\'s reason');
  const shown = queue(gateway.server, ['show', id, '--format', 'json'], ALICE);
  t.equal(shown.json?.state ?? shown.json?.record?.state, 'pending', 'the entry stays pending');
  t.match(shown.stdout, /upstream-refused/, 'with the refusal in its history');
  upstream.acceptAll('team/hook');
  const again = queue(gateway.server, ['approve', id], ALICE);
  t.equal(again.status, 0, again.stderr);
  t.equal(upstream.refs('team/hook')['refs/heads/main'], refsOf(mirror('team/hook'))['refs/heads/main']);
});

t.test('upstream stopped: a push is denied upstream.unavailable, a clone is served from the mirror with a warning', async (t) => {
  const { dir } = cloneAs(user, 'team/down', t);
  const before = refsOf(mirror('team/down'));
  const bringBack = upstream.takeDown('team/down');
  t.teardown(bringBack);
  await sleep(400);
  commitIn(user, dir, 'b.txt', 'b\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(pushed.status, 0);
  t.match(pushed.stderr, /upstream local cannot be reached/);
  t.same(refsOf(mirror('team/down')), before, 'the mirror did not move alone');
  const again = cloneAs(user, 'team/down', t);
  t.equal(again.ran.status, 0, again.ran.stderr);
  t.match(again.ran.stderr, /warning: upstream local cannot be reached; serving the last copy/);
  await gateway.waitForAudit((l) => l.type === 'upstream.refresh' && l.repository === 'team/down' && l.result === 'error');
});

t.test('upstream unreachable during the push itself: denied with upstream.unavailable', async (t) => {
  // The mirror is fresh (no refresh before the session), so the hook meets the missing upstream.
  const { dir } = cloneAs(user, 'team/push', t);
  commitIn(user, dir, 'c.txt', 'c\n');
  const bringBack = upstream.takeDown('team/push');
  t.teardown(bringBack);
  const before = refsOf(mirror('team/push'));
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(pushed.status, 0);
  t.match(pushed.stderr, /upstream\.unavailable|cannot be reached/);
  t.same(refsOf(mirror('team/push')), before);
});

t.test('two agents racing on one ref: exactly one wins upstream, the mirror equals the upstream', async (t) => {
  const a = cloneAs(user, 'team/race', t);
  const b = cloneAs(other, 'team/race', t);
  const ha = commitIn(user, a.dir, 'a.txt', 'a\n');
  const hb = commitIn(other, b.dir, 'b.txt', 'b\n');
  const [ra, rb] = await Promise.all([user.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: a.dir }), other.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: b.dir })]);
  const wins = [ra.status === 0, rb.status === 0].filter(Boolean).length;
  t.equal(wins, 1, `exactly one push wins:\n${ra.stderr}\n${rb.stderr}`);
  const loser = ra.status === 0 ? rb : ra;
  t.match(loser.stderr, /upstream\.rejected|rejected|fetch first|non-fast-forward|stale/i, 'the other is told clearly');
  t.equal(upstream.refs('team/race')['refs/heads/main'], ra.status === 0 ? ha : hb);
  await sleep(400);
  other.git(['ls-remote', gateway.url('team/race.git')]);
  t.same(refsOf(mirror('team/race')), upstream.refs('team/race'), 'the mirror equals the upstream');
});
